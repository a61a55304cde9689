//! `$GANTRY_HOME`: the one folder where gantry keeps state (databases,
//! logs, caches, keys it generated). Nothing is written anywhere else.
//! The layout and its resolution are [`gantry_store::Home`]; this module
//! only builds it from the environment.

use std::path::PathBuf;

/// The home layout from `$GANTRY_HOME`, else the platform's data folder
/// (`$XDG_DATA_HOME/gantry`, `~/.local/share/gantry`), else `.gantry-home`
/// in the current folder. Nothing is created until something is written.
pub fn layout() -> gantry_store::Home {
    gantry_store::Home::from_env()
}

/// The home folder (see [`layout`]).
pub fn home() -> PathBuf {
    layout().root().to_path_buf()
}

//! `$GANTRY_HOME`: the one folder where gantry keeps state (databases,
//! logs, caches, keys it generated). Nothing is written anywhere else.

use std::path::PathBuf;

/// The environment variable that names the home folder.
pub const HOME_ENV: &str = "GANTRY_HOME";

/// The home folder: `$GANTRY_HOME`, else the platform's data folder
/// (`$XDG_DATA_HOME/gantry`, `~/.local/share/gantry`), else `.gantry-home`
/// in the current folder. It is created by whoever first writes into it.
pub fn home() -> PathBuf {
    if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir).join("gantry");
    }
    if let Some(dir) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir)
            .join(".local")
            .join("share")
            .join("gantry");
    }
    PathBuf::from(".gantry-home")
}

//! The one way gantry touches a path someone else chose.
//!
//! - [`read_bounded`], [`read_text_bounded`], [`open_regular`] and
//!   [`check_regular`]: only regular files (never a device, FIFO, socket or
//!   `/proc`/`/sys` file), opened without blocking, and never more
//!   than a limit.
//! - [`confine`] and [`link_out_of`]: a path stays inside its root, both as
//!   written (`..`, absolute paths) and once symbolic links are followed.
//! - [`read_inside`]: both, for a file that another file names (an
//!   include, a neighbour).
//!
//! Every read of a user-supplied path in gantry goes through this crate.

mod confine;
mod read;

pub use confine::{Escape, confine, lexically_inside, link_out_of, normalize};
pub use read::{
    ReadError, check_regular, open_regular, read_bounded, read_inside, read_text_bounded,
    resolve_inside,
};

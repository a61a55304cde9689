//! Telling a live run from one whose process died.
//!
//! A process that records runs holds an exclusive advisory lock on
//! `$GANTRY_HOME/locks/<token>.lock` for as long as its [`Store`] lives;
//! each of its runs stores the token (and the pid, for people). The kernel
//! drops the lock when the process ends, however it ends, so a run whose
//! token's lock can be taken was cut off. Unlike a pid, a token is never
//! reused, and unlike a process start time it needs no `/proc`.
//!
//! [`Store`]: crate::Store

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::StoreError;
use crate::time::Timestamp;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The lock this process holds while it records runs.
#[derive(Debug)]
pub(crate) struct Owner {
    token: String,
    path: PathBuf,
    file: Option<File>,
}

pub(crate) fn lock_dir(home: &Path) -> PathBuf {
    home.join("locks")
}

fn lock_path(home: &Path, token: &str) -> PathBuf {
    lock_dir(home).join(format!("{token}.lock"))
}

impl Owner {
    pub(crate) fn acquire(home: &Path) -> Result<Owner, StoreError> {
        let dir = lock_dir(home);
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("create", &dir, e))?;
        let token = format!(
            "{}-{}-{}",
            std::process::id(),
            Timestamp::now().millis(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = lock_path(home, &token);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io("create", &path, e))?;
        file.try_lock().map_err(|e| {
            let e = match e {
                TryLockError::Error(e) => e,
                TryLockError::WouldBlock => io::Error::from(io::ErrorKind::WouldBlock),
            };
            StoreError::io("lock", &path, e)
        })?;
        Ok(Owner {
            token,
            path,
            file: Some(file),
        })
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Delete while still holding the lock, then release it.
        let _ = fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

/// Whether the process that holds `token` is still alive. When in doubt
/// (an unexpected error), the answer is yes: a live run must never be
/// marked as crashed.
pub(crate) fn is_alive(home: &Path, token: &str) -> bool {
    let path = lock_path(home, token);
    let file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
        Err(_) => return true,
    };
    match file.try_lock() {
        Ok(()) => {
            // Nobody held it: the owner is gone. Clean up its file.
            let _ = fs::remove_file(&path);
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_held_lock_is_alive_and_a_released_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let owner = Owner::acquire(dir.path()).unwrap();
        let token = owner.token().to_string();
        assert!(is_alive(dir.path(), &token));
        drop(owner);
        assert!(!is_alive(dir.path(), &token));
        assert!(!is_alive(dir.path(), "never-existed"));
    }
}

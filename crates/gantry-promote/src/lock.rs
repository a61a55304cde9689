//! Service locks: a promotion or an approval holds the lock of every
//! service it touches, from reading the recorded state until its records
//! are in the ledger, so two never interleave. Locks are taken in name
//! order (no deadlock) and are the operating system's file locks, so a
//! process that dies releases its own: a dead holder never blocks anyone.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The locks of a set of services; dropping it releases them.
#[derive(Debug)]
pub struct ServiceLocks {
    _files: Vec<File>,
}

/// Why the locks could not be taken.
#[derive(Debug, thiserror::Error)]
#[error("failed to lock {}: {source}", path.display())]
pub struct LockError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Takes the lock of every service in `services` under `dir`, waiting for
/// each that another process holds; `on_wait` is told which before the
/// wait starts.
pub fn lock_services(
    dir: &Path,
    services: &[String],
    on_wait: impl FnMut(&str),
) -> Result<ServiceLocks, LockError> {
    match take(dir, services, Some(on_wait))? {
        Taken::Held(locks) => Ok(locks),
        // Not reached: with `on_wait` every busy lock is waited for.
        Taken::Busy(service) => Err(LockError {
            path: dir.join(format!("promote-{service}.lock")),
            source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
        }),
    }
}

/// What [`try_lock_services`] got.
#[derive(Debug)]
pub enum Taken {
    Held(ServiceLocks),
    /// Another holder has this service's lock; nothing is held.
    Busy(String),
}

/// Takes the lock of every service in `services` without waiting: the
/// first one another holder has is named and nothing is kept.
pub fn try_lock_services(dir: &Path, services: &[String]) -> Result<Taken, LockError> {
    take(dir, services, None::<fn(&str)>)
}

fn take(
    dir: &Path,
    services: &[String],
    mut on_wait: Option<impl FnMut(&str)>,
) -> Result<Taken, LockError> {
    let mut names: Vec<&String> = services.iter().collect();
    names.sort();
    names.dedup();
    std::fs::create_dir_all(dir).map_err(|source| LockError {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(format!("promote-{name}.lock"));
        let error = |source| LockError {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => match on_wait.as_mut() {
                Some(on_wait) => {
                    on_wait(name);
                    file.lock().map_err(error)?;
                }
                None => return Ok(Taken::Busy(name.clone())),
            },
            Err(std::fs::TryLockError::Error(e)) => return Err(error(e)),
        }
        files.push(file);
    }
    Ok(Taken::Held(ServiceLocks { _files: files }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_second_holder_waits_and_is_told_which_service() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["b".to_string(), "a".to_string()];
        let held = lock_services(dir.path(), &names, |_| panic!("nothing holds it")).unwrap();
        let path = dir.path().to_path_buf();
        let (told, waiting) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let mut waited = Vec::new();
            let _locks = lock_services(&path, &["a".to_string()], |n| {
                waited.push(n.to_string());
                told.send(()).unwrap();
            })
            .unwrap();
            waited
        });
        waiting
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        drop(held);
        assert_eq!(waiter.join().unwrap(), vec!["a".to_string()]);
    }

    #[test]
    fn trying_a_held_lock_names_it_and_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_services(dir.path(), &["b".to_string()], |_| panic!("free")).unwrap();
        let names = vec!["a".to_string(), "b".to_string()];
        match try_lock_services(dir.path(), &names).unwrap() {
            Taken::Busy(service) => assert_eq!(service, "b"),
            Taken::Held(_) => panic!("b is held"),
        }
        // `a` was released again: another holder takes it without waiting.
        let a = lock_services(dir.path(), &["a".to_string()], |_| panic!("a kept")).unwrap();
        drop(a);
        drop(held);
        assert!(matches!(
            try_lock_services(dir.path(), &names).unwrap(),
            Taken::Held(_)
        ));
    }
}

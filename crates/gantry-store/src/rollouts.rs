//! Rollouts in the database: the status `gantry rollout run` publishes
//! and the commands (`promote`, `abort`) other terminals leave for it.
//! The status is the controller's JSON document, kept as text: the store
//! does not know what a rollout is.

use rusqlite::{OptionalExtension, params};

use crate::error::StoreError;
use crate::time::Timestamp;
use crate::{Store, TxError};

/// One rollout's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutRecord {
    pub name: String,
    pub phase: String,
    pub status_json: String,
    /// The process running it.
    pub pid: u32,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    /// It ended (promoted, rolled back or aborted).
    pub finished: bool,
}

impl RolloutRecord {
    /// Unfinished and its process still lives.
    pub fn is_running(&self) -> bool {
        !self.finished && process_lives(self.pid)
    }
}

fn process_lives(pid: u32) -> bool {
    pid != 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

impl Store {
    /// Records that this process starts driving rollout `name`; refused
    /// while another live process drives it. Commands left for an earlier
    /// run of the same name are dropped.
    pub fn begin_rollout(
        &self,
        name: &str,
        phase: &str,
        status_json: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let pid = std::process::id();
        self.write(|tx| {
            if let Some(existing) = select(tx, name)?
                && existing.is_running()
                && existing.pid != pid
            {
                return Err(StoreError::RolloutRunning {
                    name: name.to_string(),
                    pid: existing.pid,
                }
                .into());
            }
            tx.prepare_cached("DELETE FROM rollout_commands WHERE rollout = ?1")?
                .execute(params![name])?;
            tx.prepare_cached(
                "INSERT INTO rollouts (name, phase, status_json, pid, started_at, updated_at, finished)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0)
                 ON CONFLICT (name) DO UPDATE SET phase = ?2, status_json = ?3, pid = ?4,
                     started_at = ?5, updated_at = ?5, finished = 0",
            )?
            .execute(params![name, phase, status_json, pid, now.millis()])?;
            Ok(())
        })
    }

    /// Replaces the published status of rollout `name`.
    pub fn update_rollout(
        &self,
        name: &str,
        phase: &str,
        status_json: &str,
        finished: bool,
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE rollouts SET phase = ?2, status_json = ?3, updated_at = ?4, finished = ?5
                     WHERE name = ?1",
                )?
                .execute(params![name, phase, status_json, now.millis(), finished])?;
            if n == 0 {
                return Err(StoreError::NoRollout {
                    name: name.to_string(),
                }
                .into());
            }
            Ok(())
        })
    }

    /// The row of rollout `name`, if it ever ran here.
    pub fn rollout(&self, name: &str) -> Result<Option<RolloutRecord>, StoreError> {
        self.read(|tx| select(tx, name))
    }

    /// Every rollout that ran here, by name.
    pub fn rollouts(&self) -> Result<Vec<RolloutRecord>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT name, phase, status_json, pid, started_at, updated_at, finished
                 FROM rollouts ORDER BY name",
            )?;
            let rows = stmt.query_map([], record)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Leaves `command` for the process running rollout `name`; refused
    /// when no live process runs it.
    pub fn queue_rollout_command(&self, name: &str, command: &str) -> Result<(), StoreError> {
        let now = self.now();
        self.write(|tx| {
            match select(tx, name)? {
                Some(record) if record.is_running() => {}
                Some(record) => {
                    return Err(StoreError::RolloutNotRunning {
                        name: name.to_string(),
                        phase: record.phase,
                    }
                    .into());
                }
                None => {
                    return Err(StoreError::NoRollout {
                        name: name.to_string(),
                    }
                    .into());
                }
            }
            tx.prepare_cached(
                "INSERT INTO rollout_commands (rollout, command, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![name, command, now.millis()])?;
            Ok(())
        })
    }

    /// The oldest command not yet taken for rollout `name`, now taken.
    pub fn take_rollout_command(&self, name: &str) -> Result<Option<String>, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let next: Option<(i64, String)> = tx
                .prepare_cached(
                    "SELECT id, command FROM rollout_commands
                     WHERE rollout = ?1 AND taken_at IS NULL ORDER BY id LIMIT 1",
                )?
                .query_row(params![name], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            if let Some((id, _)) = &next {
                tx.prepare_cached("UPDATE rollout_commands SET taken_at = ?2 WHERE id = ?1")?
                    .execute(params![id, now.millis()])?;
            }
            Ok(next.map(|(_, command)| command))
        })
    }
}

fn select(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<Option<RolloutRecord>, TxError> {
    let row = tx
        .prepare_cached(
            "SELECT name, phase, status_json, pid, started_at, updated_at, finished
             FROM rollouts WHERE name = ?1",
        )?
        .query_row(params![name], record)
        .optional()?;
    Ok(row)
}

fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<RolloutRecord> {
    Ok(RolloutRecord {
        name: row.get(0)?,
        phase: row.get(1)?,
        status_json: row.get(2)?,
        pid: u32::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
        started_at: Timestamp(row.get(4)?),
        updated_at: Timestamp(row.get(5)?),
        finished: row.get(6)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn commands_reach_the_running_rollout_once_in_order() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        assert!(matches!(
            store.queue_rollout_command("web", "promote"),
            Err(StoreError::NoRollout { .. })
        ));
        store.begin_rollout("web", "progressing", "{}").unwrap();
        store.queue_rollout_command("web", "promote").unwrap();
        store.queue_rollout_command("web", "abort").unwrap();
        assert_eq!(
            store.take_rollout_command("web").unwrap().as_deref(),
            Some("promote")
        );
        assert_eq!(
            store.take_rollout_command("web").unwrap().as_deref(),
            Some("abort")
        );
        assert_eq!(store.take_rollout_command("web").unwrap(), None);
        store
            .update_rollout("web", "promoted", "{\"phase\":\"promoted\"}", true)
            .unwrap();
        let record = store.rollout("web").unwrap().unwrap();
        assert_eq!(record.phase, "promoted");
        assert!(!record.is_running());
        assert!(matches!(
            store.queue_rollout_command("web", "abort"),
            Err(StoreError::RolloutNotRunning { .. })
        ));
    }

    #[test]
    fn a_new_run_drops_the_commands_left_for_the_last_one() {
        let home = tempfile::tempdir().unwrap();
        let store = Store::open(home.path()).unwrap();
        store.begin_rollout("web", "progressing", "{}").unwrap();
        store.queue_rollout_command("web", "abort").unwrap();
        store.begin_rollout("web", "progressing", "{}").unwrap();
        assert_eq!(store.take_rollout_command("web").unwrap(), None);
    }
}

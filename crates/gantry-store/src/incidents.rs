//! Incidents recorded against deployments (`gantry incident open`,
//! `resolve`): what DORA's change fail rate, failed deployment recovery
//! time and rework rate read besides the deployments' own statuses.

use std::fmt;
use std::str::FromStr;

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use crate::deployments::DeploymentId;
use crate::error::StoreError;
use crate::time::Timestamp;
use crate::{Store, TxError, from_sql_int, sql_int};

/// An incident's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for IncidentId {
    type Err = crate::ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .trim_start_matches('#')
            .parse::<u64>()
            .map(IncidentId)
            .map_err(|_| crate::ParseIdError {
                text: s.to_string(),
                what: "incident",
            })
    }
}

/// An incident as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: IncidentId,
    /// The deployment that caused it.
    pub deployment: DeploymentId,
    /// That deployment's environment.
    pub environment: String,
    pub title: String,
    pub opened_at: Timestamp,
    /// `None` while it is open.
    pub resolved_at: Option<Timestamp>,
}

/// `gantry incident list --format json`, and what `open` and `resolve`
/// print: newest first.
#[derive(Debug, Serialize)]
pub struct IncidentsDocument<'a> {
    pub version: u32,
    pub incidents: &'a [Incident],
}

impl<'a> IncidentsDocument<'a> {
    pub fn new(incidents: &'a [Incident]) -> Self {
        IncidentsDocument {
            version: crate::DOCUMENT_VERSION,
            incidents,
        }
    }
}

/// The longest title kept.
pub const MAX_TITLE: usize = 500;

const COLUMNS: &str = "i.id, i.deployment_id, d.environment, i.title, i.opened_at, i.resolved_at";

fn incident_row(row: &Row<'_>) -> Result<Incident, TxError> {
    Ok(Incident {
        id: IncidentId(from_sql_int(row.get(0)?, "incident id")?),
        deployment: DeploymentId(from_sql_int(row.get(1)?, "deployment id")?),
        environment: row.get(2)?,
        title: row.get(3)?,
        opened_at: Timestamp(row.get(4)?),
        resolved_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
    })
}

fn get(tx: &Transaction<'_>, id: IncidentId) -> Result<Option<Incident>, TxError> {
    let found = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM incidents i JOIN deployments d ON d.id = i.deployment_id
             WHERE i.id = ?1"
        ))?
        .query_row([sql_int(id.0)], |row| Ok(incident_row(row)))
        .optional()?;
    found.transpose()
}

fn collect(
    tx: &Transaction<'_>,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Incident>, TxError> {
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(incident_row(row)?);
    }
    Ok(out)
}

impl Store {
    /// Opens an incident caused by `deployment`, now. The title is trimmed
    /// and must be 1 to [`MAX_TITLE`] characters.
    pub fn open_incident(
        &self,
        deployment: DeploymentId,
        title: &str,
    ) -> Result<Incident, StoreError> {
        let title = title.trim();
        let found = title.chars().count();
        if found == 0 || found > MAX_TITLE {
            return Err(StoreError::IncidentTitle {
                max: MAX_TITLE,
                found,
            });
        }
        let now = self.now();
        self.write(|tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM deployments WHERE id = ?1")?
                .query_row([sql_int(deployment.0)], |_| Ok(()))
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::NotFound {
                    what: "deployment",
                    id: deployment.0,
                }
                .into());
            }
            tx.prepare_cached(
                "INSERT INTO incidents (deployment_id, title, opened_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![sql_int(deployment.0), title, now.millis()])?;
            let id = IncidentId(from_sql_int(tx.last_insert_rowid(), "incident id")?);
            get(tx, id)?.ok_or(TxError::Store(StoreError::NotFound {
                what: "incident",
                id: id.0,
            }))
        })
    }

    /// Resolves incident `id`, now. Resolving a resolved incident is an
    /// error that says when it was resolved.
    pub fn resolve_incident(&self, id: IncidentId) -> Result<Incident, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let Some(current) = get(tx, id)? else {
                return Err(StoreError::NotFound {
                    what: "incident",
                    id: id.0,
                }
                .into());
            };
            if let Some(at) = current.resolved_at {
                return Err(StoreError::IncidentResolved { id: id.0, at }.into());
            }
            tx.prepare_cached("UPDATE incidents SET resolved_at = ?1 WHERE id = ?2")?
                .execute(params![now.millis(), sql_int(id.0)])?;
            get(tx, id)?.ok_or(TxError::Store(StoreError::NotFound {
                what: "incident",
                id: id.0,
            }))
        })
    }

    /// One incident.
    pub fn incident(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        self.read(|tx| get(tx, id))
    }

    /// Incidents newest first, of deployments to one environment
    /// (case-insensitive) or to all; at most `limit`.
    pub fn incidents(
        &self,
        environment: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Incident>, StoreError> {
        self.read(|tx| {
            collect(
                tx,
                &format!(
                    "SELECT {COLUMNS} FROM incidents i JOIN deployments d ON d.id = i.deployment_id
                     WHERE (?1 IS NULL OR d.environment = ?1 COLLATE NOCASE)
                     ORDER BY i.id DESC LIMIT ?2"
                ),
                params![environment, sql_int(limit as u64)],
            )
        })
    }

    /// Every incident of deployments to `environment` (case-insensitive),
    /// oldest first.
    pub fn environment_incidents(&self, environment: &str) -> Result<Vec<Incident>, StoreError> {
        self.read(|tx| {
            collect(
                tx,
                &format!(
                    "SELECT {COLUMNS} FROM incidents i JOIN deployments d ON d.id = i.deployment_id
                     WHERE d.environment = ?1 COLLATE NOCASE ORDER BY i.id"
                ),
                [environment],
            )
        })
    }
}

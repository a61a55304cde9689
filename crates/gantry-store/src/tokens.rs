//! API tokens of `gantry serve`. The store keeps a token's name, role,
//! times and the hash of its secret, never the secret: whoever reads the
//! database cannot use a token. Making the secret and hashing it is the
//! caller's job (gantry-server), so the rules live in one place.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::time::Timestamp;
use crate::{Store, StoreError, TxError, from_sql_int};

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    /// `viewer`, `deployer`, `approver` or `admin` (the schema refuses others).
    pub role: &'a str,
    /// The hex SHA-256 of the secret.
    pub secret_hash: &'a str,
    pub expires_at: Option<Timestamp>,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: u64,
    pub name: String,
    pub role: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const TOKEN_COLUMNS: &str = "id, name, role, created_at, expires_at, revoked_at";

fn token(row: &Row<'_>) -> Result<TokenInfo, TxError> {
    Ok(TokenInfo {
        id: from_sql_int(row.get(0)?, "token id")?,
        name: row.get(1)?,
        role: row.get(2)?,
        created_at: Timestamp(row.get(3)?),
        expires_at: row.get::<_, Option<i64>>(4)?.map(Timestamp),
        revoked_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
    })
}

impl Store {
    /// Stores a token; `None` when a token of that name exists already
    /// (revoked ones too: a name is never reused, so the records it signed
    /// keep meaning one holder).
    pub fn create_token(&self, new: &NewToken<'_>) -> Result<Option<TokenInfo>, StoreError> {
        let now = self.now();
        self.write(|tx| {
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT id FROM api_tokens WHERE name = ?1",
                    [new.name],
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO api_tokens (name, role, secret_hash, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    new.name,
                    new.role,
                    new.secret_hash,
                    now.0,
                    new.expires_at.map(|t| t.0)
                ],
            )?;
            let id = from_sql_int(tx.last_insert_rowid(), "token id")?;
            Ok(Some(TokenInfo {
                id,
                name: new.name.to_string(),
                role: new.role.to_string(),
                created_at: now,
                expires_at: new.expires_at,
                revoked_at: None,
            }))
        })
    }

    /// Every token, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"
            ))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(token(row)?);
            }
            Ok(out)
        })
    }

    /// The token whose secret hashes to `secret_hash`, revoked and expired
    /// ones included (the caller decides what they may do).
    pub fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenInfo>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ?1"
            ))?;
            let mut rows = stmt.query([secret_hash])?;
            match rows.next()? {
                Some(row) => Ok(Some(token(row)?)),
                None => Ok(None),
            }
        })
    }

    /// Revokes the token named `name`; `None` when there is none, else the
    /// token as it is now (revoking twice keeps the first time).
    pub fn revoke_token(&self, name: &str) -> Result<Option<TokenInfo>, StoreError> {
        let now = self.now();
        self.write(|tx| {
            tx.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now.0],
            )?;
            let mut stmt = tx.prepare(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE name = ?1"
            ))?;
            let mut rows = stmt.query([name])?;
            match rows.next()? {
                Some(row) => Ok(Some(token(row)?)),
                None => Ok(None),
            }
        })
    }
}

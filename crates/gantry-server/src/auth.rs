//! API tokens and roles. A token is `gantry_` and 43 base64url characters
//! (32 random bytes); the store keeps only its SHA-256, so the secret is
//! shown once, when it is made. Roles are ordered: each may do what the
//! one before it may, and more.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use gantry_store::{NewToken, Store, StoreError, Timestamp, TokenInfo};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// What a token may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also creates and promotes packages.
    Deployer,
    /// Also approves packages, under the token's name.
    Approver,
    /// Everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Deployer => "deployer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "viewer" => Role::Viewer,
            "deployer" => Role::Deployer,
            "approver" => Role::Approver,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The prefix of every token (lets secret scanners find leaked ones).
pub const TOKEN_PREFIX: &str = "gantry_";

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a token named `{0}` exists already (names are never reused, revoked ones too)")]
    NameTaken(String),
    #[error("no token named `{0}`; `gantry token list` shows them")]
    NotFound(String),
    #[error("token name `{0}` may hold only letters, digits and - _ . @ (1 to 64 of them)")]
    BadName(String),
    #[error("`{0}` is not a duration: give a number and d, h or m, e.g. 30d")]
    BadDuration(String),
    #[error("failed to get randomness from the operating system: {0}")]
    Random(String),
}

/// A token just made: its secret is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// `gantry token list --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct TokensReport {
    pub version: u32,
    pub tokens: Vec<TokenInfo>,
}

/// The hex SHA-256 of a secret, as the store keeps it.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Parses `30d`, `12h` or `90m`.
pub fn parse_duration(s: &str) -> Result<Duration, TokenError> {
    let bad = || TokenError::BadDuration(s.to_string());
    let (digits, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3_600),
        "m" => n.checked_mul(60),
        _ => None,
    }
    .ok_or_else(bad)?;
    if seconds == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(seconds))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

/// Makes a token of `role` named `name`, valid for `expires` from now.
pub fn create_token(
    store: &Store,
    name: &str,
    role: Role,
    expires: Option<Duration>,
) -> Result<CreatedToken, TokenError> {
    if !valid_name(name) {
        return Err(TokenError::BadName(name.to_string()));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash_secret(&token);
    let info = store
        .create_token(&NewToken {
            name,
            role: role.as_str(),
            secret_hash: &hash,
            expires_at: expires.map(|d| Timestamp::now().plus(d)),
        })?
        .ok_or_else(|| TokenError::NameTaken(name.to_string()))?;
    Ok(CreatedToken { token, info })
}

/// Every token (without secrets).
pub fn list_tokens(store: &Store) -> Result<TokensReport, TokenError> {
    Ok(TokensReport {
        version: 1,
        tokens: store.tokens()?,
    })
}

/// Revokes a token: from now on it is refused.
pub fn revoke_token(store: &Store, name: &str) -> Result<TokenInfo, TokenError> {
    store
        .revoke_token(name)?
        .ok_or_else(|| TokenError::NotFound(name.to_string()))
}

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// The caller a secret belongs to, if it is a live token: known, not
/// revoked, not expired, of a known role.
pub fn authenticate(
    store: &Store,
    secret: &str,
    now: Timestamp,
) -> Result<Option<Caller>, StoreError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(info) = store.token_by_hash(&hash_secret(secret))? else {
        return Ok(None);
    };
    if info.revoked_at.is_some() || info.expires_at.is_some_and(|t| t <= now) {
        return Ok(None);
    }
    Ok(Role::parse(&info.role).map(|role| Caller {
        name: info.name,
        role,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn durations_parse_with_their_unit_and_refuse_others() {
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7_200));
        for bad in ["", "d", "30", "30s", "0d", "-1d", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_include_the_ones_before() {
        assert!(Role::Admin > Role::Approver);
        assert!(Role::Approver > Role::Deployer);
        assert!(Role::Deployer > Role::Viewer);
    }

    #[test]
    fn a_token_is_stored_only_as_its_hash_and_revocation_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let made = create_token(&store, "ci", Role::Deployer, None).unwrap();
        let db = std::fs::read(store.database_path()).unwrap();
        let wal = std::fs::read(dir.path().join("gantry.db-wal")).unwrap_or_default();
        let needle = made.token.as_bytes();
        for bytes in [&db, &wal] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
        let now = Timestamp::now();
        assert_eq!(
            authenticate(&store, &made.token, now).unwrap(),
            Some(Caller {
                name: "ci".into(),
                role: Role::Deployer
            })
        );
        assert!(matches!(
            create_token(&store, "ci", Role::Viewer, None),
            Err(TokenError::NameTaken(_))
        ));
        revoke_token(&store, "ci").unwrap();
        assert_eq!(authenticate(&store, &made.token, now).unwrap(), None);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let made =
            create_token(&store, "short", Role::Viewer, Some(Duration::from_secs(60))).unwrap();
        let later = Timestamp::now().plus(Duration::from_secs(120));
        assert_eq!(authenticate(&store, &made.token, later).unwrap(), None);
    }
}

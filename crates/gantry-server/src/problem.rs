//! Errors as RFC 9457 problem details (`application/problem+json`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem detail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://gantry.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn unauthorized() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid token is needed: `Authorization: Bearer TOKEN` (`gantry token create` makes one)",
        )
    }

    pub fn forbidden(needed: &str) -> Problem {
        Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs a token of role {needed} or above"),
        )
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<gantry_store::StoreError> for Problem {
    fn from(e: gantry_store::StoreError) -> Problem {
        Problem::internal(e.to_string())
    }
}

impl From<gantry_ledger::LedgerError> for Problem {
    fn from(e: gantry_ledger::LedgerError) -> Problem {
        use gantry_ledger::LedgerError as E;
        match e {
            E::NoSuchEntry { .. } => Problem::not_found(e.to_string()),
            E::SizeBeyondLog { .. } | E::Proof(_) => Problem::bad_request(e.to_string()),
            other => Problem::internal(other.to_string()),
        }
    }
}

impl From<gantry_promote::package::PackageError> for Problem {
    fn from(e: gantry_promote::package::PackageError) -> Problem {
        use gantry_promote::package::PackageError as E;
        match e {
            E::NotFound(_) => Problem::not_found(e.to_string()),
            E::NoServices
            | E::UnknownService { .. }
            | E::DuplicateService(_)
            | E::BadVersion(_)
            | E::Ambiguous { .. }
            | E::BadId(_)
            | E::ArtifactService { .. } => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            other => Problem::internal(other.to_string()),
        }
    }
}

impl From<gantry_promote::promote::PromoteError> for Problem {
    fn from(e: gantry_promote::promote::PromoteError) -> Problem {
        use gantry_promote::promote::PromoteError as E;
        match e {
            E::Package(p) => p.into(),
            E::Busy { .. } => Problem::conflict(e.to_string()),
            E::UnknownState { .. } | E::ServiceGone { .. } => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
            }
            other => Problem::internal(other.to_string()),
        }
    }
}

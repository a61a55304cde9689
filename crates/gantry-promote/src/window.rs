//! Promotion windows: allow and deny schedules in a named time zone.
//!
//! A placeholder with the agreed interface so that `.gantry/promotion.yml`
//! can be read: [`Window::parse`] checks the time zone name and keeps the
//! schedule texts as written; it does not read the schedules yet, and
//! [`Window::check`] fails closed.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::outcome::Outcome;

/// One schedule as written (`Fri 16:00 - Mon 08:00`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
}

/// Why a window could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    #[error("unknown time zone `{name}`")]
    TimeZone { name: String },
}

/// When promotions may happen.
#[derive(Debug, Clone)]
pub struct Window {
    pub timezone: TimeZone,
    pub tz_name: String,
    pub allow: Vec<Span>,
    pub deny: Vec<Span>,
}

impl Window {
    pub fn parse(tz: &str, allow: &[String], deny: &[String]) -> Result<Window, WindowError> {
        let timezone = TimeZone::get(tz).map_err(|_| WindowError::TimeZone {
            name: tz.to_string(),
        })?;
        let spans = |texts: &[String]| {
            texts
                .iter()
                .map(|t| Span { text: t.clone() })
                .collect::<Vec<_>>()
        };
        Ok(Window {
            timezone,
            tz_name: tz.to_string(),
            allow: spans(allow),
            deny: spans(deny),
        })
    }

    pub fn check(&self, _now: Timestamp) -> Outcome {
        Outcome::fail(format!(
            "promotion windows ({}) are not evaluated by this build",
            self.tz_name
        ))
    }
}

//! Range checks of the numbers a run is given (`timeout-minutes`,
//! `max-parallel`, `--jobs`): a number out of range is a clear error,
//! never an overflow, a panic or a silently different value.

use std::time::Duration;

use gantry_workflow::model::{OrExpr, Spanned};

use super::scope::Scope;

/// The longest timeout a job or step may have: a year.
pub const MAX_TIMEOUT_MINUTES: f64 = 525_600.0;

/// The most jobs that may run at once, and the largest `max-parallel`.
pub const MAX_PARALLEL: usize = 65_536;

/// A number that is out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitError {
    #[error("{what} must be a number, not {}", show(*value))]
    NotANumber { what: &'static str, value: f64 },
    #[error("{what} must be a whole number, not {}", show(*value))]
    NotWhole { what: &'static str, value: f64 },
    #[error("{what} must be at least {min}, not {}", show(*value))]
    TooSmall {
        what: &'static str,
        value: f64,
        min: f64,
    },
    #[error("{what} is {}, more than the largest allowed, {max}", show(*value))]
    TooLarge {
        what: &'static str,
        value: f64,
        max: f64,
    },
}

/// A number as a person would write it: huge ones in exponent form.
fn show(n: f64) -> String {
    if n.is_finite() && n.abs() >= 1e15 {
        format!("{n:e}")
    } else {
        format!("{n}")
    }
}

/// A timeout given in minutes (`timeout-minutes`, `cancel-timeout-minutes`).
pub fn timeout_minutes(what: &'static str, minutes: f64) -> Result<Duration, LimitError> {
    if minutes.is_nan() {
        return Err(LimitError::NotANumber {
            what,
            value: minutes,
        });
    }
    if minutes < 0.0 {
        return Err(LimitError::TooSmall {
            what,
            value: minutes,
            min: 0.0,
        });
    }
    if minutes > MAX_TIMEOUT_MINUTES {
        return Err(LimitError::TooLarge {
            what,
            value: minutes,
            max: MAX_TIMEOUT_MINUTES,
        });
    }
    Duration::try_from_secs_f64(minutes * 60.0).map_err(|_| LimitError::TooLarge {
        what,
        value: minutes,
        max: MAX_TIMEOUT_MINUTES,
    })
}

/// A count of jobs at once (`max-parallel`), from 1 to [`MAX_PARALLEL`].
pub fn parallel(what: &'static str, value: f64) -> Result<usize, LimitError> {
    if value.is_nan() {
        return Err(LimitError::NotANumber { what, value });
    }
    if value.fract() != 0.0 && value.is_finite() {
        return Err(LimitError::NotWhole { what, value });
    }
    if value < 1.0 {
        return Err(LimitError::TooSmall {
            what,
            value,
            min: 1.0,
        });
    }
    if value > MAX_PARALLEL as f64 {
        return Err(LimitError::TooLarge {
            what,
            value,
            max: MAX_PARALLEL as f64,
        });
    }
    // In range and whole, so the conversion is exact.
    Ok(value as usize)
}

/// A job's `max-parallel`, evaluated: `None` when it has none.
pub(crate) fn max_parallel(
    value: Option<&Spanned<OrExpr<f64>>>,
    scope: &Scope,
) -> Result<Option<usize>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let n = match &value.value {
        OrExpr::Value(n) => *n,
        OrExpr::Expr(text) => super::job::expand_value(text, scope)?.to_number(),
    };
    parallel("max-parallel", n)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The number of jobs a run may run at once (`--jobs`).
pub fn jobs(value: usize) -> Result<usize, LimitError> {
    if value == 0 || value > MAX_PARALLEL {
        return parallel("the number of jobs at once (--jobs)", value as f64);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn huge_timeouts_are_errors_not_panics() {
        for huge in [1e300, 2f64.powi(64), f64::INFINITY, 525_601.0] {
            let e = timeout_minutes("timeout-minutes", huge).unwrap_err();
            assert!(matches!(e, LimitError::TooLarge { .. }), "{e}");
        }
        assert_eq!(
            timeout_minutes("timeout-minutes", 1e300)
                .unwrap_err()
                .to_string(),
            "timeout-minutes is 1e300, more than the largest allowed, 525600"
        );
        assert!(timeout_minutes("t", f64::NAN).is_err());
        assert!(timeout_minutes("t", -1.0).is_err());
        assert_eq!(timeout_minutes("t", 0.5).unwrap(), Duration::from_secs(30));
        assert_eq!(
            timeout_minutes("t", MAX_TIMEOUT_MINUTES).unwrap(),
            Duration::from_secs(525_600 * 60)
        );
    }

    #[test]
    fn parallelism_is_a_whole_number_in_range() {
        assert_eq!(parallel("max-parallel", 3.0).unwrap(), 3);
        for bad in [0.0, -2.0, 1.5, f64::NAN, 1e300, f64::INFINITY, 65_537.0] {
            assert!(parallel("max-parallel", bad).is_err(), "{bad}");
        }
        assert!(jobs(0).is_err());
        assert!(jobs(usize::MAX).is_err());
        assert_eq!(jobs(8).unwrap(), 8);
        assert!(
            jobs(usize::MAX)
                .unwrap_err()
                .to_string()
                .starts_with("the number of jobs at once (--jobs) is 1.8446744073709552e19")
        );
    }
}

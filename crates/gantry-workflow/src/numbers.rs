//! Numbers with GitHub's ranges: `timeout-minutes` and `strategy.max-parallel`.
//!
//! YAML numbers are doubles, so a file may say `timeout-minutes: 1e300`,
//! `.nan` or `-5`. The reader turns such values into diagnostics; what the
//! model stores is a type whose every value is usable: a timeout converts to
//! a [`Duration`] without overflow and a parallelism limit to a `usize`. The
//! same constructors check the values that expressions yield at run time.

use std::num::NonZeroU32;
use std::time::Duration;

/// The longest timeout accepted, in minutes: 35 days, GitHub's limit on a
/// whole workflow run (a job on a self-hosted runner may run 5 days, on a
/// GitHub-hosted one 6 hours), so no longer timeout could ever take effect.
pub const MAX_TIMEOUT_MINUTES: f64 = 35.0 * 24.0 * 60.0;

/// The largest `max-parallel`: GitHub stores it as a 32-bit signed integer.
pub const MAX_PARALLEL: u32 = i32::MAX as u32;

/// Why a number is outside the range of the setting it is given to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    #[error("{what} must be a number, not {}", shown(*value))]
    NotANumber { what: &'static str, value: f64 },
    #[error("{what} must be greater than 0, not {}", shown(*value))]
    NotPositive { what: &'static str, value: f64 },
    #[error("{what} must be a whole number, not {}", shown(*value))]
    NotWhole { what: &'static str, value: f64 },
    #[error("{what} must be at most {max}, not {}", shown(*value))]
    TooLarge {
        what: &'static str,
        max: f64,
        value: f64,
    },
}

/// A number as GitHub shows it (`1E+300`, `NaN`, `Infinity`).
fn shown(value: f64) -> String {
    gantry_expr::Value::Number(value).to_display_string()
}

impl RangeError {
    /// How to fix the value.
    pub fn hint(&self) -> String {
        match self {
            RangeError::NotWhole { what, .. } => format!("give {what} as a whole number"),
            RangeError::NotANumber { what, .. }
            | RangeError::NotPositive { what, .. }
            | RangeError::TooLarge { what, .. } => match *what {
                "max-parallel" => format!(
                    "max-parallel is a whole number from 1 to {MAX_PARALLEL}; leave it out to run every combination at once"
                ),
                _ => format!(
                    "{what} is a number of minutes above 0 and at most {MAX_TIMEOUT_MINUTES} (35 days); leave it out for the default of 360"
                ),
            },
        }
    }
}

/// A timeout in minutes: finite, above 0, at most [`MAX_TIMEOUT_MINUTES`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct TimeoutMinutes(f64);

impl TimeoutMinutes {
    /// Checks a number of minutes given to `what` (e.g. `timeout-minutes`).
    pub fn new(what: &'static str, minutes: f64) -> Result<Self, RangeError> {
        if minutes.is_nan() {
            return Err(RangeError::NotANumber {
                what,
                value: minutes,
            });
        }
        if minutes <= 0.0 {
            return Err(RangeError::NotPositive {
                what,
                value: minutes,
            });
        }
        if minutes > MAX_TIMEOUT_MINUTES {
            return Err(RangeError::TooLarge {
                what,
                max: MAX_TIMEOUT_MINUTES,
                value: minutes,
            });
        }
        Ok(Self(minutes))
    }

    /// The number of minutes.
    pub fn minutes(self) -> f64 {
        self.0
    }

    /// The timeout as a duration (never overflows: the range is bounded).
    pub fn duration(self) -> Duration {
        Duration::from_secs_f64(self.0 * 60.0)
    }
}

/// A `strategy.max-parallel`: a whole number from 1 to [`MAX_PARALLEL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MaxParallel(NonZeroU32);

impl MaxParallel {
    /// Checks a number given to `max-parallel`.
    pub fn new(value: f64) -> Result<Self, RangeError> {
        let what = "max-parallel";
        if value.is_nan() {
            return Err(RangeError::NotANumber { what, value });
        }
        if value < 1.0 {
            return Err(RangeError::NotPositive { what, value });
        }
        if value > f64::from(MAX_PARALLEL) {
            return Err(RangeError::TooLarge {
                what,
                max: f64::from(MAX_PARALLEL),
                value,
            });
        }
        if value.fract() != 0.0 {
            return Err(RangeError::NotWhole { what, value });
        }
        // In range and whole, so the conversion is exact.
        let whole = value as u32;
        NonZeroU32::new(whole)
            .map(Self)
            .ok_or(RangeError::NotPositive { what, value })
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The limit as a count of jobs.
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0.get()).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_outside_the_range_are_refused() {
        for bad in [
            0.0,
            -5.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            18_446_744_073_709_551_616.0,
            MAX_TIMEOUT_MINUTES + 1.0,
        ] {
            assert!(
                TimeoutMinutes::new("timeout-minutes", bad).is_err(),
                "{bad}"
            );
        }
        let max = TimeoutMinutes::new("timeout-minutes", MAX_TIMEOUT_MINUTES);
        assert_eq!(
            max.map(TimeoutMinutes::duration),
            Ok(Duration::from_secs(35 * 24 * 3600))
        );
        assert_eq!(
            TimeoutMinutes::new("timeout-minutes", 0.5).map(TimeoutMinutes::duration),
            Ok(Duration::from_secs(30))
        );
    }

    #[test]
    fn messages_show_numbers_briefly() {
        let err = TimeoutMinutes::new("timeout-minutes", 1e300).err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("timeout-minutes must be at most 50400, not 1E+300".to_string())
        );
    }

    #[test]
    fn max_parallel_is_a_positive_32_bit_integer() {
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 2147483648.0, 1e300] {
            assert!(MaxParallel::new(bad).is_err(), "{bad}");
        }
        assert_eq!(MaxParallel::new(1.0).map(MaxParallel::get), Ok(1));
        assert_eq!(
            MaxParallel::new(2147483647.0).map(MaxParallel::get),
            Ok(2147483647)
        );
    }
}

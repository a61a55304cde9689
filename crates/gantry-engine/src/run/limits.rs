//! Range checks of the numbers a run is given at run time (`max-parallel`
//! from an expression, `--jobs`): a number out of range is a clear error,
//! never an overflow, a panic or a silently different value. The ranges are
//! gantry-workflow's (`numbers.rs`), which the reader applies to literals.

use gantry_workflow::model::{MaxParallel, OrExpr, Spanned};
use gantry_workflow::numbers::RangeError;

use super::expand::ExprError;
use super::scope::Scope;

/// Why a `max-parallel` expression gives no usable number.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MaxParallelError {
    #[error(transparent)]
    Expr(#[from] ExprError),
    #[error(transparent)]
    Range(#[from] RangeError),
}

/// The most jobs that may run at once (`--jobs`).
pub const MAX_JOBS: usize = 65_536;

/// A `--jobs` count out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the number of jobs at once (--jobs) must be from 1 to {MAX_JOBS}, not {value}")]
pub struct JobsError {
    pub value: usize,
}

/// A job's `max-parallel`, evaluated: `None` when it has none. Literal values
/// were range-checked by the reader; an expression's value is checked here
/// with the same rules.
pub(crate) fn max_parallel(
    value: Option<&Spanned<OrExpr<MaxParallel>>>,
    scope: &Scope,
) -> Result<Option<usize>, MaxParallelError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let checked = match &value.value {
        OrExpr::Value(n) => *n,
        OrExpr::Expr(text) => {
            MaxParallel::new(super::expand::expand_value(text, scope)?.to_number())?
        }
    };
    Ok(Some(checked.as_usize()))
}

/// The number of jobs a run may run at once (`--jobs`).
pub fn jobs(value: usize) -> Result<usize, JobsError> {
    if value == 0 || value > MAX_JOBS {
        return Err(JobsError { value });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jobs_is_a_count_in_range() {
        assert!(jobs(0).is_err());
        assert!(jobs(MAX_JOBS + 1).is_err());
        assert_eq!(jobs(8).unwrap(), 8);
        assert_eq!(
            jobs(usize::MAX).unwrap_err().to_string(),
            format!(
                "the number of jobs at once (--jobs) must be from 1 to 65536, not {}",
                usize::MAX
            )
        );
    }
}

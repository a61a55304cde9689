//! What one check of a gate concluded, and why.

use serde::Serialize;

/// The result of one gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateResult {
    /// The requirement is met.
    Pass,
    /// The requirement is not met.
    Fail,
    /// Waiting for something that may still come (an approval, a window,
    /// the end of a soak time).
    Pending,
    /// Not evaluated (`required_if_present` with nothing present, or a
    /// gate after the promotion already stopped).
    Skipped,
}

impl GateResult {
    pub fn as_str(self) -> &'static str {
        match self {
            GateResult::Pass => "pass",
            GateResult::Fail => "fail",
            GateResult::Pending => "pending",
            GateResult::Skipped => "skipped",
        }
    }
}

/// A gate's result and the reason, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub result: GateResult,
    pub reason: String,
}

impl Outcome {
    pub fn pass(reason: impl Into<String>) -> Outcome {
        Outcome {
            result: GateResult::Pass,
            reason: reason.into(),
        }
    }

    pub fn fail(reason: impl Into<String>) -> Outcome {
        Outcome {
            result: GateResult::Fail,
            reason: reason.into(),
        }
    }

    pub fn pending(reason: impl Into<String>) -> Outcome {
        Outcome {
            result: GateResult::Pending,
            reason: reason.into(),
        }
    }

    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome {
            result: GateResult::Skipped,
            reason: reason.into(),
        }
    }
}

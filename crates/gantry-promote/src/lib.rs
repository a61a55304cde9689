//! Promotion: the service catalog (`.gantry/services/*.yml`), the
//! compliance state machine and its gates (`.gantry/promotion.yml`), Rego
//! policies (`.gantry/policies/*.rego`), packages, approvals, and
//! dependency-ordered promotion recorded as an evidence chain in the
//! ledger.
//!
//! Nothing here prints: every operation returns a typed report that the
//! binary (and later the server) renders.

pub mod evidence;
pub mod outcome;
pub mod policy;
pub mod window;

pub use outcome::{GateResult, Outcome};

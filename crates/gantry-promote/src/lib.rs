//! Promotion: the service catalog (`.gantry/services/*.yml`), the
//! compliance state machine and its gates (`.gantry/promotion.yml`), Rego
//! policies (`.gantry/policies/*.rego`), packages, approvals, and
//! dependency-ordered promotion recorded as an evidence chain in the
//! ledger.
//!
//! Nothing here prints: every operation returns a typed report that the
//! binary (and later the server) renders.

pub mod approval;
pub mod catalog;
pub mod config;
pub mod evidence;
pub mod history;
pub mod located;
pub mod lock;
pub mod order;
pub mod outcome;
pub mod package;
pub mod policy;
pub mod promote;
pub mod services;
pub mod state;
pub mod window;

pub use catalog::{
    Catalog, CatalogError, ComplianceMode, Dependency, DependencyKind, Location, Service,
};
pub use config::{ConfigError, PromotionConfig};
pub use order::{CycleError, promotion_order};
pub use outcome::{GateResult, Outcome};

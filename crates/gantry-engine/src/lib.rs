//! Planning and running workflows: [`plan`] says which workflows an event
//! triggers and which jobs would run; [`run`] executes them on this machine.

pub mod concurrency;
pub mod event;
pub mod github;
pub mod marketplace;
pub mod plan;
pub mod provenance;
pub mod run;
pub mod secrets;
pub mod select;
pub mod session;
pub mod source;

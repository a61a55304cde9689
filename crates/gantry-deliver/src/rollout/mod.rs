//! Canary and blue-green rollouts: the rollout file (`config`), judging
//! intervals (`analysis`) and the state machine that moves traffic
//! (`controller`).

pub mod analysis;
pub mod config;
pub mod controller;
pub mod evidence;
pub mod run;

#[cfg(test)]
mod controller_tests;

pub use analysis::{IntervalReport, Verdict};
pub use config::{RolloutConfig, RolloutConfigError, Step, Strategy, TrafficConfig};
pub use controller::{
    Clock, Command, Control, Controller, ControllerOptions, EventKind, EventSink, HttpOutside,
    Outcome, Outside, Phase, RolloutEvent, RolloutReport, RolloutStatus, SystemClock,
};
pub use evidence::ROLLOUT_PREDICATE;
pub use run::{
    RolloutError, RouterInfo, RunOutcome, RunRequest, StatusReport, rollout_status, run_rollout,
    send_command,
};

//! Canary and blue-green rollouts: the rollout file (`config`), judging
//! intervals (`analysis`) and the state machine that moves traffic
//! (`controller`).

pub mod analysis;
pub mod config;
pub mod controller;

#[cfg(test)]
mod controller_tests;

pub use analysis::{IntervalReport, Verdict};
pub use config::{RolloutConfig, RolloutConfigError, Step, Strategy, TrafficConfig};
pub use controller::{
    Clock, Command, Control, Controller, ControllerOptions, EventKind, EventSink, HttpOutside,
    Outcome, Outside, Phase, RolloutEvent, RolloutReport, RolloutStatus, SystemClock,
};

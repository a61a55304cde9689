//! The planner: which workflows an event triggers, matrix expansion and the
//! job graph. (The executor arrives with `gantry run`.)

pub mod matrix;

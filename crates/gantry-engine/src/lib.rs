//! The planner: which workflows an event triggers, the jobs they would run,
//! their matrices and the job graph. (The executor arrives with `gantry run`.)

pub mod plan;

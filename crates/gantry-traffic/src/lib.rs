//! Traffic for progressive delivery.
//!
//! A rollout controller (in `gantry-deliver`) moves traffic between a
//! stable and a canary upstream through a [`TrafficProvider`] and judges
//! each side from the [`TrafficSnapshot`]s it reads back. Providers:
//! gantry's own weighted router, and a real HAProxy driven through its
//! runtime API. Nothing here prints.

pub mod haproxy;
pub mod load;
mod pool;
pub mod provider;
pub mod router;
pub mod stats;

pub use pool::UpstreamBody;
pub use provider::{TrafficError, TrafficProvider};
pub use router::{Router, RouterError, RouterOptions, Upstream};
pub use stats::{Histogram, HistogramSnapshot, Side, SideSnapshot, SideStats, TrafficSnapshot};

//! The interface a rollout controller drives.

use std::future::Future;

use crate::stats::TrafficSnapshot;

/// What went wrong talking to a traffic provider.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrafficError {
    /// The provider could not be reached (a socket, an admin address).
    #[error("cannot reach {what} at {address}")]
    Connect {
        what: &'static str,
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The provider answered, but refused or did not understand.
    #[error("{what} refused `{command}`: {reply}")]
    Refused {
        what: &'static str,
        command: String,
        reply: String,
    },
    /// A weight outside 0..=100.
    #[error("canary weight {0} is not a percentage (0 to 100)")]
    Weight(u32),
    /// A setting given to a provider that it cannot use.
    #[error("invalid {what} `{value}`: {reason}")]
    Invalid {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// A command got no (complete) answer in time.
    #[error("{what} at {address} did not answer `{command}` within {after:?}")]
    Timeout {
        what: &'static str,
        address: String,
        command: String,
        after: std::time::Duration,
    },
    /// Sending a command or reading its reply failed half-way.
    #[error("failed to talk to {what} at {address} (`{command}`)")]
    Io {
        what: &'static str,
        address: String,
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// The provider answered something that cannot be read.
    #[error("failed to read the reply of {what} to `{command}`: {reason}")]
    Reply {
        what: &'static str,
        command: String,
        reason: String,
    },
}

/// Something that splits traffic between a stable and a canary upstream
/// and counts what each side served.
///
/// Counters in a [`TrafficSnapshot`] are cumulative since the provider
/// started; a controller takes the difference of two snapshots
/// ([`TrafficSnapshot::since`]) to judge one interval.
pub trait TrafficProvider: Send + Sync {
    /// A short name for reports and evidence: `router`, `haproxy`.
    fn kind(&self) -> &'static str;

    /// Sends `percent` of new requests to the canary and the rest to
    /// stable. Requests in flight finish where they started.
    fn set_canary_weight(
        &self,
        percent: u32,
    ) -> impl Future<Output = Result<(), TrafficError>> + Send;

    /// The counters as they are now.
    fn snapshot(&self) -> impl Future<Output = Result<TrafficSnapshot, TrafficError>> + Send;
}

//! Per-side request statistics: counters by status class and a latency
//! histogram that many request tasks record into without a lock.
//!
//! The histogram is log-linear in microseconds: exact below 32 µs, then 32
//! buckets per power of two (each bucket within about 3% of its values) up
//! to 2^32 µs (71 minutes); slower requests land in the last bucket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Buckets below this value hold exactly one microsecond each; above it,
/// each power of two is split into this many buckets.
const SUB_BUCKETS: u64 = 32;
const SUB_BITS: u32 = 5;
/// The largest power of two covered (values up to 2^MAX_EXP - 1 µs).
const MAX_EXP: u32 = 32;
/// 32 exact buckets, then 32 per power of two from 2^5 to 2^31.
pub const BUCKETS: usize = (SUB_BUCKETS + (MAX_EXP - SUB_BITS) as u64 * SUB_BUCKETS) as usize;

/// Which upstream of a rollout a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Stable,
    Canary,
}

impl Side {
    /// `stable` or `canary`, as reports and metrics name them.
    pub fn name(self) -> &'static str {
        match self {
            Side::Stable => "stable",
            Side::Canary => "canary",
        }
    }
}

fn bucket_of(micros: u64) -> usize {
    if micros < SUB_BUCKETS {
        return micros as usize;
    }
    let exp = 63 - micros.leading_zeros();
    if exp >= MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = (micros >> (exp - SUB_BITS)) & (SUB_BUCKETS - 1);
    (SUB_BUCKETS + u64::from(exp - SUB_BITS) * SUB_BUCKETS + sub) as usize
}

/// The smallest and largest microsecond value that falls in `index`.
fn bucket_bounds(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return (index, index);
    }
    let exp = SUB_BITS as u64 + (index - SUB_BUCKETS) / SUB_BUCKETS;
    let sub = (index - SUB_BUCKETS) % SUB_BUCKETS;
    let width = 1u64 << (exp - SUB_BITS as u64);
    let low = (SUB_BUCKETS + sub) * width;
    (low, low + width - 1)
}

/// A latency histogram that request tasks record into concurrently.
pub struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.snapshot().count())
            .finish()
    }
}

impl Histogram {
    pub fn record(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// The counts of a [`Histogram`] at one moment (or the difference of two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramSnapshot {
    counts: Vec<u64>,
}

impl Default for HistogramSnapshot {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
        }
    }
}

impl HistogramSnapshot {
    /// Adds one observation (for providers that learn latencies one by one
    /// rather than through a shared [`Histogram`]).
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counts[bucket_of(micros)] += 1;
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The latency at quantile `q` (0.0 to 1.0): the upper bound of the
    /// bucket that holds it, so a threshold check never reads a latency
    /// as lower than it was. `None` when there are no observations.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let q = if q.is_nan() { 1.0 } else { q.clamp(0.0, 1.0) };
        // The rank of the observation at q, counted from 1.
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(Duration::from_micros(bucket_bounds(index).1));
            }
        }
        None
    }

    /// What was recorded after `earlier` (counts never go down; a provider
    /// that restarted reads as starting from zero).
    pub fn since(&self, earlier: &HistogramSnapshot) -> HistogramSnapshot {
        HistogramSnapshot {
            counts: self
                .counts
                .iter()
                .zip(earlier.counts.iter().chain(std::iter::repeat(&0)))
                .map(|(now, then)| now.saturating_sub(*then))
                .collect(),
        }
    }

    pub fn merge(&mut self, other: &HistogramSnapshot) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
    }

    /// Non-empty buckets as `(upper bound, count)`, lowest first: for
    /// Prometheus histograms and reports.
    pub fn buckets(&self) -> impl Iterator<Item = (Duration, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (Duration::from_micros(bucket_bounds(i).1), *c))
    }
}

/// Live counters of one side, shared by every request task.
#[derive(Debug, Default)]
pub struct SideStats {
    /// Responses by status class: index 0 is 1xx, 4 is 5xx.
    classes: [AtomicU64; 5],
    /// Requests that got no response from the upstream (refused, reset,
    /// timed out); the client saw a 502 or 504 from the proxy.
    upstream_failures: AtomicU64,
    latency: Histogram,
}

impl SideStats {
    /// Records one response from the upstream. A status outside 100..=599
    /// is no HTTP answer and counts as a failure.
    pub fn record_response(&self, status: u16, latency: Duration) {
        match (status / 100).checked_sub(1).filter(|c| *c < 5) {
            Some(class) => {
                self.classes[usize::from(class)].fetch_add(1, Ordering::Relaxed);
            }
            None => {
                self.upstream_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency.record(latency);
    }

    /// Records a request the upstream never answered.
    pub fn record_failure(&self, latency: Duration) {
        self.upstream_failures.fetch_add(1, Ordering::Relaxed);
        self.latency.record(latency);
    }

    pub fn snapshot(&self) -> SideSnapshot {
        SideSnapshot {
            status_classes: std::array::from_fn(|i| self.classes[i].load(Ordering::Relaxed)),
            upstream_failures: self.upstream_failures.load(Ordering::Relaxed),
            latency: self.latency.snapshot(),
        }
    }
}

/// One side's counters at one moment (or the difference of two).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideSnapshot {
    /// Responses by status class: index 0 is 1xx, 4 is 5xx.
    pub status_classes: [u64; 5],
    /// Requests the upstream never answered.
    pub upstream_failures: u64,
    /// Latency of every request, answered or not.
    pub latency: HistogramSnapshot,
}

impl SideSnapshot {
    /// Every request, answered or not.
    pub fn requests(&self) -> u64 {
        self.status_classes.iter().sum::<u64>() + self.upstream_failures
    }

    /// 5xx responses plus requests the upstream never answered.
    pub fn errors(&self) -> u64 {
        self.status_classes[4] + self.upstream_failures
    }

    /// The share of requests that were not errors; `None` with no requests.
    pub fn success_rate(&self) -> Option<f64> {
        let requests = self.requests();
        (requests > 0).then(|| 1.0 - self.errors() as f64 / requests as f64)
    }

    pub fn since(&self, earlier: &SideSnapshot) -> SideSnapshot {
        SideSnapshot {
            status_classes: std::array::from_fn(|i| {
                self.status_classes[i].saturating_sub(earlier.status_classes[i])
            }),
            upstream_failures: self
                .upstream_failures
                .saturating_sub(earlier.upstream_failures),
            latency: self.latency.since(&earlier.latency),
        }
    }
}

/// Both sides' counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrafficSnapshot {
    pub stable: SideSnapshot,
    pub canary: SideSnapshot,
}

impl TrafficSnapshot {
    pub fn side(&self, side: Side) -> &SideSnapshot {
        match side {
            Side::Stable => &self.stable,
            Side::Canary => &self.canary,
        }
    }

    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &TrafficSnapshot) -> TrafficSnapshot {
        TrafficSnapshot {
            stable: self.stable.since(&earlier.stable),
            canary: self.canary.since(&earlier.canary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_a_bucket_whose_bounds_hold_it() {
        let mut value = 0u64;
        while value < (1 << MAX_EXP) {
            let (low, high) = bucket_bounds(bucket_of(value));
            assert!(
                low <= value && value <= high,
                "{value} outside {low}..={high}"
            );
            // Relative width stays within 1/32 above the exact range.
            if value >= SUB_BUCKETS {
                assert!(
                    (high - low + 1) * SUB_BUCKETS <= low,
                    "bucket of {value} too wide"
                );
            }
            value = value * 17 / 16 + 1;
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn bucket_bounds_are_contiguous() {
        for index in 1..BUCKETS {
            assert_eq!(
                bucket_bounds(index - 1).1 + 1,
                bucket_bounds(index).0,
                "gap at {index}"
            );
        }
    }

    #[test]
    fn quantiles_of_a_uniform_spread_are_within_a_bucket() {
        let histogram = Histogram::default();
        for ms in 1..=1000u64 {
            histogram.record(Duration::from_millis(ms));
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count(), 1000);
        let p99 = snapshot.quantile(0.99).map(|d| d.as_micros());
        let p50 = snapshot.quantile(0.5).map(|d| d.as_micros());
        // The true values are 990 ms and 500 ms; buckets are about 3% wide
        // and the quantile reports the upper bound.
        assert!(
            p99.is_some_and(|v| (990_000..=990_000 * 33 / 32).contains(&v)),
            "{p99:?}"
        );
        assert!(
            p50.is_some_and(|v| (500_000..=500_000 * 33 / 32).contains(&v)),
            "{p50:?}"
        );
        assert_eq!(HistogramSnapshot::default().quantile(0.5), None);
    }

    #[test]
    fn an_interval_is_the_difference_of_two_snapshots() {
        let stats = SideStats::default();
        stats.record_response(200, Duration::from_millis(5));
        stats.record_response(503, Duration::from_millis(5));
        let before = stats.snapshot();
        stats.record_response(200, Duration::from_millis(7));
        stats.record_failure(Duration::from_secs(1));
        stats.record_response(0, Duration::from_millis(1)); // no HTTP status: a failure
        let interval = stats.snapshot().since(&before);
        assert_eq!(interval.requests(), 3);
        assert_eq!(interval.errors(), 2);
        assert_eq!(interval.upstream_failures, 2);
        assert_eq!(interval.latency.count(), 3);
        assert_eq!(before.success_rate(), Some(0.5));
        assert_eq!(SideSnapshot::default().success_rate(), None);
    }
}

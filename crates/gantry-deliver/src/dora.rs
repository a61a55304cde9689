//! DORA's software delivery metrics, computed from gantry's own records
//! (the deployments of one environment, their statuses, and the incidents
//! recorded against them) with the definitions dora.dev gives for 2024:
//! deployment frequency, change lead time, change fail rate, failed
//! deployment recovery time and deployment rework rate.
//!
//! `gantry dora`, `GET /v1/dora`, the `/metrics` DORA series and the
//! dashboard's DORA page all call [`report`]; nothing else computes them.
//!
//! The rules, exactly (the README's "DORA" section says the same):
//!
//! - A *deployment* is a recorded deployment that started (its statuses
//!   include `in_progress`: one refused at a branch rule, rejected by a
//!   reviewer or timed out waiting never reached production) and has ended
//!   (`success`, `failure`, `error` or `inactive`). One still under way is
//!   left out and counted as `in_progress`. It is in the window when it
//!   was created in `[until - since, until]`.
//! - *Deployment frequency*: deployments in the window divided by its
//!   length in days (and weeks).
//! - *Change lead time*: for each deployment in the window that succeeded,
//!   is not a rollback, and whose commit no earlier deployment to the
//!   environment brought there successfully (the first arrival of that
//!   change), the time from its commit's time to its first `success`
//!   status. The median is reported; deployments without a recorded commit
//!   time are counted, not guessed.
//! - A *failed change* is a deployment that failed (it never succeeded:
//!   `failure` or `error`), was rolled back (the next deployment to the
//!   environment is a rollback), or has an incident. *Change fail rate* is
//!   failed changes over deployments in the window.
//! - *Failed deployment recovery time*, for each failed change in the
//!   window: from when the failure began (its first `failure`/`error`
//!   status; else its earliest incident's opening; else, rolled back
//!   only, when it went live) to when it ended (with incidents: when the
//!   last of them was resolved; without: the first later deployment to the
//!   environment that succeeded at or after the start). Median over the
//!   recovered ones; `null`, never 0, when none failed or none recovered.
//! - *Deployment rework rate*: the share of deployments in the window that
//!   were unplanned, made in response to a failure: rollbacks, and every
//!   deployment created while an earlier failed change of the environment
//!   was not yet recovered (between its start and its end, or after its
//!   start when it never recovered).
//!
//! Every duration is in seconds; a median of an even count is the mean of
//! the two middle values.

use std::collections::HashMap;
use std::time::Duration;

use gantry_store::{Deployment, DeploymentId, DeploymentState, Incident, Store, Timestamp};
use serde::Serialize;

/// `--environment`'s default.
pub const DEFAULT_ENVIRONMENT: &str = "production";
/// `--since`'s default.
pub const DEFAULT_SINCE: &str = "90d";
/// The longest window: 100 years of 365 days.
pub const MAX_SINCE_DAYS: u64 = 36_500;
/// The trend covers at most this many of the newest weeks of the window.
pub const MAX_TREND_WEEKS: usize = 52;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

/// Why there is no report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DoraError {
    #[error("`{text}` is not a duration: give a whole number and m, h, d or w, e.g. 90d")]
    BadDuration { text: String },
    #[error("`{text}` is too long a window: at most {MAX_SINCE_DAYS}d")]
    TooLong { text: String },
    #[error("`{text}` is an empty window: give a duration above zero")]
    Empty { text: String },
    #[error("the environment's name is empty")]
    NoEnvironment,
    #[error(transparent)]
    Store(#[from] gantry_store::StoreError),
}

/// Parses `--since`: a whole number and a unit, `m` (minutes), `h`, `d`
/// or `w`; from one minute to [`MAX_SINCE_DAYS`] days.
pub fn parse_since(text: &str) -> Result<Duration, DoraError> {
    let t = text.trim();
    let bad = || DoraError::BadDuration {
        text: text.to_string(),
    };
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(bad());
    }
    let minutes_per: u64 = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 24 * 60,
        "w" => 7 * 24 * 60,
        _ => return Err(bad()),
    };
    let too_long = || DoraError::TooLong {
        text: text.to_string(),
    };
    // More digits than any allowed window has is too long, not malformed.
    let n: u64 = digits.parse().map_err(|_| too_long())?;
    let minutes = n.checked_mul(minutes_per).ok_or_else(too_long)?;
    if minutes == 0 {
        return Err(DoraError::Empty {
            text: text.to_string(),
        });
    }
    if minutes > MAX_SINCE_DAYS * 24 * 60 {
        return Err(too_long());
    }
    Ok(Duration::from_secs(minutes * 60))
}

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoraQuery {
    pub environment: String,
    pub since: Duration,
}

impl DoraQuery {
    /// From `--environment` and `--since` (or the API's `environment` and
    /// `since`), with their defaults.
    pub fn parse(environment: Option<&str>, since: Option<&str>) -> Result<DoraQuery, DoraError> {
        let environment = environment.unwrap_or(DEFAULT_ENVIRONMENT).trim();
        if environment.is_empty() {
            return Err(DoraError::NoEnvironment);
        }
        Ok(DoraQuery {
            environment: environment.to_string(),
            since: parse_since(since.unwrap_or(DEFAULT_SINCE))?,
        })
    }
}

/// One of the 2024 report's software delivery performance clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cluster {
    Elite,
    High,
    Medium,
    Low,
}

impl Cluster {
    pub fn as_str(self) -> &'static str {
        match self {
            Cluster::Elite => "elite",
            Cluster::High => "high",
            Cluster::Medium => "medium",
            Cluster::Low => "low",
        }
    }

    pub const ALL: [Cluster; 4] = [Cluster::Elite, Cluster::High, Cluster::Medium, Cluster::Low];
}

// The 2024 Accelerate State of DevOps report (DORA) found four clusters of
// software delivery performance. In our words, its table says:
// - elite (19% of respondents): deploys on demand, several times a day;
//   lead time under a day; about 5% of changes fail; recovers in under an
//   hour;
// - high (22%): deploys between daily and weekly; lead time between a day
//   and a week; about 20% fail; recovers in under a day;
// - medium (35%): deploys between weekly and monthly; lead time between a
//   week and a month; about 10% fail; recovers in under a day;
// - low (25%): deploys between monthly and twice a year; lead time between
//   a month and six months; about 40% fail; recovers in between a week and
//   a month.
// The table has no column for rework rate, so gantry classifies it not.
// The functions below turn those ranges into boundaries; where the table
// leaves a gap or an overlap, the comment says which way gantry goes.

/// Deployment frequency: at least daily is elite, at least weekly high, at
/// least every 30 days medium, less often low.
pub fn frequency_cluster(per_day: f64) -> Cluster {
    if per_day >= 1.0 {
        Cluster::Elite
    } else if per_day * 7.0 >= 1.0 {
        Cluster::High
    } else if per_day * 30.0 >= 1.0 {
        Cluster::Medium
    } else {
        Cluster::Low
    }
}

/// Change lead time (the median): under a day elite, under a week high,
/// under 30 days medium, longer low (six months and beyond too).
pub fn lead_time_cluster(seconds: f64) -> Cluster {
    let ms = seconds * 1000.0;
    if ms < DAY_MS as f64 {
        Cluster::Elite
    } else if ms < WEEK_MS as f64 {
        Cluster::High
    } else if ms < 30.0 * DAY_MS as f64 {
        Cluster::Medium
    } else {
        Cluster::Low
    }
}

/// Change fail rate: the 2024 clusters are not ordered by it (medium's
/// typical 10% is below high's 20%), so a rate goes to the cluster whose
/// typical rate is nearest: up to 7.5% elite, up to 15% medium, up to 30%
/// high, above low.
pub fn fail_rate_cluster(rate: f64) -> Cluster {
    if rate <= 0.075 {
        Cluster::Elite
    } else if rate <= 0.15 {
        Cluster::Medium
    } else if rate <= 0.30 {
        Cluster::High
    } else {
        Cluster::Low
    }
}

/// Failed deployment recovery time (the median): under an hour elite,
/// under a day high (high and medium both recover in under a day; gantry
/// names the better), longer low (the table puts low at a week to a month
/// and no cluster between a day and a week; gantry calls that low too).
pub fn recovery_cluster(seconds: f64) -> Cluster {
    let ms = seconds * 1000.0;
    if ms < HOUR_MS as f64 {
        Cluster::Elite
    } else if ms < DAY_MS as f64 {
        Cluster::High
    } else {
        Cluster::Low
    }
}

/// How often the environment was deployed to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequency {
    pub deployments: u64,
    pub per_day: f64,
    pub per_week: f64,
    /// `None` with no deployments.
    pub cluster: Option<Cluster>,
}

/// Commit to successful deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTime {
    /// `None` when no change arrived with a known commit time.
    pub median_seconds: Option<f64>,
    /// The changes measured.
    pub changes: u64,
    /// Changes that arrived but whose commit time was not recorded.
    pub without_commit_time: u64,
    pub cluster: Option<Cluster>,
}

/// A share of the deployments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    pub count: u64,
    pub deployments: u64,
    /// `count / deployments`; `None` with no deployments.
    pub rate: Option<f64>,
    /// `None` with no deployments (and always for the rework rate, which
    /// the 2024 clusters do not classify).
    pub cluster: Option<Cluster>,
}

/// From a failed change to its recovery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    /// `None` (not 0) when nothing failed or nothing recovered.
    pub median_seconds: Option<f64>,
    pub recovered: u64,
    pub unrecovered: u64,
    pub cluster: Option<Cluster>,
}

/// Why a deployment counts as a failed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// It never succeeded (`failure` or `error`).
    Failed,
    /// The next deployment to the environment rolled it back.
    RolledBack,
    /// An incident was recorded against it.
    Incident,
}

/// One failed change of the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedChange {
    pub deployment: DeploymentId,
    pub reasons: Vec<FailReason>,
    pub failed_at: Timestamp,
    /// `None` while it is not recovered.
    pub recovered_at: Option<Timestamp>,
    pub recovery_seconds: Option<f64>,
}

/// One week of the trend (weeks start on Monday, 00:00 UTC).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    pub start: Timestamp,
    pub deployments: u64,
    pub failed_changes: u64,
    pub change_fail_rate: Option<f64>,
    pub lead_time_median_seconds: Option<f64>,
    pub recovery_median_seconds: Option<f64>,
}

/// `gantry dora --format json` and `GET /v1/dora`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoraReport {
    pub version: u32,
    pub environment: String,
    pub since: Timestamp,
    pub until: Timestamp,
    pub window_days: f64,
    /// Deployments in the window still under way, left out of the figures.
    pub in_progress: u64,
    pub deployment_frequency: Frequency,
    pub change_lead_time: LeadTime,
    pub change_fail_rate: Rate,
    pub failed_deployment_recovery_time: Recovery,
    pub deployment_rework_rate: Rate,
    pub failed_changes: Vec<FailedChange>,
    /// The deployments counted as rework.
    pub rework: Vec<DeploymentId>,
    /// The window week by week, oldest first (at most the newest
    /// [`MAX_TREND_WEEKS`]).
    pub weeks: Vec<Week>,
}

/// The report on `query.environment` over the window ending `until`: the
/// one function every DORA figure comes from.
pub fn report(store: &Store, query: &DoraQuery, until: Timestamp) -> Result<DoraReport, DoraError> {
    let history = store.environment_history(&query.environment)?;
    let incidents = store.environment_incidents(&query.environment)?;
    Ok(compute(&history, &incidents, query, until))
}

/// What one deployment's statuses say.
struct Facts<'a> {
    d: &'a Deployment,
    /// Reached `in_progress`.
    started: bool,
    /// Started and ended.
    finished: bool,
    succeeded_at: Option<Timestamp>,
    failed_at: Option<Timestamp>,
}

fn facts(d: &Deployment) -> Facts<'_> {
    let started = d
        .statuses
        .iter()
        .any(|s| s.state == DeploymentState::InProgress);
    let first = |want: &[DeploymentState]| {
        d.statuses
            .iter()
            .find(|s| want.contains(&s.state))
            .map(|s| s.created_at)
    };
    Facts {
        d,
        started,
        finished: started && d.state.is_final(),
        succeeded_at: first(&[DeploymentState::Success]),
        failed_at: first(&[DeploymentState::Failure, DeploymentState::Error]),
    }
}

/// A failed change of the whole history, with when it began and ended.
struct Failure {
    index: usize,
    reasons: Vec<FailReason>,
    start: Timestamp,
    end: Option<Timestamp>,
}

fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let ms = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    };
    Some(ms / 1000.0)
}

fn ratio(count: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| count as f64 / of as f64)
}

/// The Monday 00:00 UTC on or before `t`.
fn week_start(t: Timestamp) -> Timestamp {
    let day = t.millis().div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: three days after a Monday.
    Timestamp((day - (day + 3).rem_euclid(7)) * DAY_MS)
}

/// The figures from `history` (every deployment to the environment, oldest
/// first) and its `incidents`: what [`report`] returns, without the store.
pub fn compute(
    history: &[Deployment],
    incidents: &[Incident],
    query: &DoraQuery,
    until: Timestamp,
) -> DoraReport {
    let since = until.minus(query.since);
    let all: Vec<Facts<'_>> = history.iter().map(facts).collect();
    let in_window = |t: Timestamp| since <= t && t <= until;
    let incidents_of = |id: DeploymentId| incidents.iter().filter(move |i| i.deployment == id);

    // Failed changes over the whole history: a failure just before the
    // window still makes deployments in it rework.
    let mut failures: Vec<Failure> = Vec::new();
    for (index, f) in all.iter().enumerate() {
        if !f.finished {
            continue;
        }
        let mut reasons = Vec::new();
        if f.succeeded_at.is_none() {
            reasons.push(FailReason::Failed);
        }
        let next = all[index + 1..].iter().find(|n| n.started);
        if next.is_some_and(|n| n.d.rollback_of.is_some()) {
            reasons.push(FailReason::RolledBack);
        }
        let own: Vec<&Incident> = incidents_of(f.d.id).collect();
        if !own.is_empty() {
            reasons.push(FailReason::Incident);
        }
        if reasons.is_empty() {
            continue;
        }
        let start = f
            .failed_at
            .filter(|_| f.succeeded_at.is_none())
            .or_else(|| own.iter().map(|i| i.opened_at).min())
            .or(f.succeeded_at)
            .unwrap_or(f.d.created_at);
        let end = if own.is_empty() {
            all[index + 1..]
                .iter()
                .filter_map(|n| n.succeeded_at)
                .filter(|&t| t >= start)
                .min()
        } else if own.iter().all(|i| i.resolved_at.is_some()) {
            own.iter().filter_map(|i| i.resolved_at).max()
        } else {
            None
        };
        failures.push(Failure {
            index,
            reasons,
            start,
            end,
        });
    }

    let counted: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].finished && in_window(all[i].d.created_at))
        .collect();
    let in_progress = all
        .iter()
        .filter(|f| f.started && !f.finished && in_window(f.d.created_at))
        .count() as u64;

    // The first deployment that brought each commit successfully.
    let mut first_arrival: HashMap<&str, usize> = HashMap::new();
    for (i, f) in all.iter().enumerate() {
        if let (Some(commit), Some(_)) = (f.d.commit.as_deref(), f.succeeded_at) {
            first_arrival.entry(commit).or_insert(i);
        }
    }
    // Lead time of each change's first successful arrival.
    let lead_of = |i: usize| -> Option<Result<i64, ()>> {
        let f = &all[i];
        let arrived = f.succeeded_at?;
        if f.d.rollback_of.is_some() {
            return None;
        }
        let commit = f.d.commit.as_deref()?;
        if first_arrival.get(commit) != Some(&i) {
            return None;
        }
        Some(match f.d.commit_time {
            Some(c) => Ok(arrived.millis().saturating_sub(c.millis()).max(0)),
            None => Err(()),
        })
    };
    let is_rework = |i: usize| -> bool {
        let d = all[i].d;
        d.rollback_of.is_some()
            || failures.iter().any(|f| {
                f.index < i
                    && f.start <= d.created_at
                    && f.end.is_none_or(|end| d.created_at <= end)
            })
    };
    let failure_of = |i: usize| failures.iter().find(|f| f.index == i);

    // The figures of a set of deployments (the window, or one week).
    struct Figures {
        deployments: u64,
        failed: u64,
        leads: Vec<i64>,
        without_commit_time: u64,
        recoveries: Vec<i64>,
        unrecovered: u64,
        rework: u64,
    }
    let figures = |set: &[usize]| -> Figures {
        let mut out = Figures {
            deployments: set.len() as u64,
            failed: 0,
            leads: Vec::new(),
            without_commit_time: 0,
            recoveries: Vec::new(),
            unrecovered: 0,
            rework: 0,
        };
        for &i in set {
            match lead_of(i) {
                Some(Ok(ms)) => out.leads.push(ms),
                Some(Err(())) => out.without_commit_time += 1,
                None => {}
            }
            if let Some(f) = failure_of(i) {
                out.failed += 1;
                match f.end {
                    Some(end) => out
                        .recoveries
                        .push(end.millis().saturating_sub(f.start.millis()).max(0)),
                    None => out.unrecovered += 1,
                }
            }
            if is_rework(i) {
                out.rework += 1;
            }
        }
        out
    };

    let mut window = figures(&counted);
    let window_days = query.since.as_millis() as f64 / DAY_MS as f64;
    let per_day = window.deployments as f64 / window_days;
    let lead_median = median(&mut window.leads);
    let recovery_median = median(&mut window.recoveries);
    let fail_rate = ratio(window.failed, window.deployments);

    let failed_changes = counted
        .iter()
        .filter_map(|&i| failure_of(i))
        .map(|f| FailedChange {
            deployment: all[f.index].d.id,
            reasons: f.reasons.clone(),
            failed_at: f.start,
            recovered_at: f.end,
            recovery_seconds: f
                .end
                .map(|end| end.millis().saturating_sub(f.start.millis()).max(0) as f64 / 1000.0),
        })
        .collect();
    let rework = counted
        .iter()
        .filter(|&&i| is_rework(i))
        .map(|&i| all[i].d.id)
        .collect();

    let mut weeks = Vec::new();
    let newest = week_start(until).millis();
    let oldest = newest.saturating_sub((MAX_TREND_WEEKS as i64 - 1) * WEEK_MS);
    let mut start = Timestamp(week_start(since).millis().max(oldest));
    while start <= until {
        let end = Timestamp(start.millis().saturating_add(WEEK_MS));
        let set: Vec<usize> = counted
            .iter()
            .copied()
            .filter(|&i| start <= all[i].d.created_at && all[i].d.created_at < end)
            .collect();
        let mut w = figures(&set);
        weeks.push(Week {
            start,
            deployments: w.deployments,
            failed_changes: w.failed,
            change_fail_rate: ratio(w.failed, w.deployments),
            lead_time_median_seconds: median(&mut w.leads),
            recovery_median_seconds: median(&mut w.recoveries),
        });
        start = end;
    }

    let any = window.deployments > 0;
    DoraReport {
        version: 1,
        environment: query.environment.clone(),
        since,
        until,
        window_days,
        in_progress,
        deployment_frequency: Frequency {
            deployments: window.deployments,
            per_day,
            per_week: per_day * 7.0,
            cluster: any.then(|| frequency_cluster(per_day)),
        },
        change_lead_time: LeadTime {
            median_seconds: lead_median,
            changes: window.leads.len() as u64,
            without_commit_time: window.without_commit_time,
            cluster: lead_median.map(lead_time_cluster),
        },
        change_fail_rate: Rate {
            count: window.failed,
            deployments: window.deployments,
            rate: fail_rate,
            cluster: fail_rate.map(fail_rate_cluster),
        },
        failed_deployment_recovery_time: Recovery {
            median_seconds: recovery_median,
            recovered: window.recoveries.len() as u64,
            unrecovered: window.unrecovered,
            cluster: recovery_median.map(recovery_cluster),
        },
        deployment_rework_rate: Rate {
            count: window.rework,
            deployments: window.deployments,
            rate: ratio(window.rework, window.deployments),
            cluster: None,
        },
        failed_changes,
        rework,
        weeks,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn since_takes_a_number_and_a_unit_and_refuses_the_rest() {
        assert_eq!(
            parse_since("90d").unwrap(),
            Duration::from_secs(90 * 86_400)
        );
        assert_eq!(parse_since("2w").unwrap(), Duration::from_secs(14 * 86_400));
        assert_eq!(parse_since("36h").unwrap(), Duration::from_secs(36 * 3_600));
        assert_eq!(parse_since("36500d").unwrap().as_secs(), 36_500 * 86_400);
        for bad in ["", "d", "90", "90x", "-3d", "1.5d", "9 d", "ninety"] {
            assert!(
                matches!(parse_since(bad), Err(DoraError::BadDuration { .. })),
                "{bad}"
            );
        }
        for long in [
            "36501d",
            "99999999999999999999999d",
            "18446744073709551615w",
        ] {
            assert!(
                matches!(parse_since(long), Err(DoraError::TooLong { .. })),
                "{long}"
            );
        }
        assert!(matches!(parse_since("0d"), Err(DoraError::Empty { .. })));
    }

    #[test]
    fn clusters_follow_the_2024_table() {
        assert_eq!(frequency_cluster(3.0), Cluster::Elite);
        assert_eq!(frequency_cluster(0.5), Cluster::High);
        assert_eq!(frequency_cluster(0.1), Cluster::Medium);
        assert_eq!(frequency_cluster(0.01), Cluster::Low);
        assert_eq!(lead_time_cluster(3_600.0), Cluster::Elite);
        assert_eq!(lead_time_cluster(2.0 * 86_400.0), Cluster::High);
        assert_eq!(lead_time_cluster(10.0 * 86_400.0), Cluster::Medium);
        assert_eq!(lead_time_cluster(200.0 * 86_400.0), Cluster::Low);
        assert_eq!(fail_rate_cluster(0.05), Cluster::Elite);
        assert_eq!(fail_rate_cluster(0.10), Cluster::Medium);
        assert_eq!(fail_rate_cluster(0.20), Cluster::High);
        assert_eq!(fail_rate_cluster(0.40), Cluster::Low);
        assert_eq!(recovery_cluster(600.0), Cluster::Elite);
        assert_eq!(recovery_cluster(7_200.0), Cluster::High);
        assert_eq!(recovery_cluster(3.0 * 86_400.0), Cluster::Low);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-07 is a Monday; 2026-12-10T12:00Z a Thursday of that week.
        let monday = jiff::Timestamp::from_second(1_796_601_600).unwrap();
        assert_eq!(monday.strftime("%A").to_string(), "Monday");
        let thursday = Timestamp(monday.as_millisecond() + 3 * DAY_MS + 12 * HOUR_MS);
        assert_eq!(week_start(thursday), Timestamp(monday.as_millisecond()));
        assert_eq!(
            week_start(Timestamp(monday.as_millisecond())),
            Timestamp(monday.as_millisecond())
        );
    }
}

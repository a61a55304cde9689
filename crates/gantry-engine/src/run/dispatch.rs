//! The dispatcher: which job instance may start now, as a state machine
//! over job events, without processes, clocks or expressions.
//!
//! A job is `Pending` until every job it `needs` has finished; then it is
//! handed out by [`Dispatcher::ready`] once, and the scheduler decides it:
//! [`Dispatcher::conclude`] when it does not run (its `if:` is false or
//! failed, its matrix could not be expanded), [`Dispatcher::expand`] into
//! instances when it does. Instances start as [`Dispatcher::next`] allows
//! (`max-parallel`); [`Dispatcher::finished`] takes their results, says
//! when `fail-fast` cancels the instances still running, and when the job
//! is done. Instances that `fail-fast` cancelled before they started are
//! handed out as [`Next::Cancel`], to be reported as cancelled.

use std::collections::VecDeque;

use super::Conclusion;

/// A job, by its position in the workflow's `jobs`.
pub(crate) type JobIndex = usize;

/// How a job's instances run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Strategy {
    /// How many instances (matrix combinations; 1 without a matrix).
    pub instances: usize,
    /// How many may run at once (`max-parallel`); all when `None`.
    pub max_parallel: Option<usize>,
    /// A failed instance cancels the others (`fail-fast`).
    pub fail_fast: bool,
    /// The job has `continue-on-error`, so a failure never cancels.
    pub continue_on_error: bool,
}

/// What the scheduler is to do with an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Run instance `instance` of `job`.
    Start { job: JobIndex, instance: usize },
    /// Do not run it: `fail-fast` cancelled it before it started. Report
    /// it, then hand in [`Conclusion::Cancelled`] through `finished`.
    Cancel { job: JobIndex, instance: usize },
}

/// What an instance's end changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Finish {
    /// `fail-fast`: cancel the job's instances that are still running.
    pub cancel_running: bool,
    /// Every instance has ended; the job's result.
    pub done: Option<Conclusion>,
}

#[derive(Debug)]
enum State {
    Pending,
    /// Handed out by `ready`; waiting for `conclude` or `expand`.
    Deciding,
    Running(Group),
    Done,
}

#[derive(Debug)]
struct Group {
    strategy: Strategy,
    /// Instances not started yet, in order.
    queued: VecDeque<usize>,
    running: usize,
    results: Vec<Conclusion>,
    /// `fail-fast` has cancelled the group.
    cancelled: bool,
}

/// The state of one workflow's jobs.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    /// The jobs each job needs (needs naming no job of the workflow are
    /// left out: they never hold a job back).
    needs: Vec<Vec<JobIndex>>,
    states: Vec<State>,
}

impl Dispatcher {
    /// `needs[i]` are the jobs job `i` needs.
    pub(crate) fn new(needs: Vec<Vec<JobIndex>>) -> Self {
        let states = needs.iter().map(|_| State::Pending).collect();
        Self { needs, states }
    }

    /// Jobs whose needs have all finished, in workflow order; each job is
    /// handed out once.
    pub(crate) fn ready(&mut self) -> Vec<JobIndex> {
        let mut out = Vec::new();
        for job in 0..self.states.len() {
            if matches!(self.states[job], State::Pending)
                && self.needs[job]
                    .iter()
                    .all(|n| matches!(self.states.get(*n), Some(State::Done) | None))
            {
                self.states[job] = State::Deciding;
                out.push(job);
            }
        }
        out
    }

    /// A job that was ready ended without running an instance.
    pub(crate) fn conclude(&mut self, job: JobIndex) {
        if let Some(state) = self.states.get_mut(job) {
            *state = State::Done;
        }
    }

    /// A job that was ready runs as `strategy.instances` instances.
    pub(crate) fn expand(&mut self, job: JobIndex, strategy: Strategy) {
        let Some(state) = self.states.get_mut(job) else {
            return;
        };
        *state = if strategy.instances == 0 {
            State::Done
        } else {
            State::Running(Group {
                strategy,
                queued: (0..strategy.instances).collect(),
                running: 0,
                results: Vec::new(),
                cancelled: false,
            })
        };
    }

    /// The instances that may start now. Once the run is cancelled,
    /// queued instances still start (their jobs see `cancelled()`).
    pub(crate) fn next(&mut self, run_cancelled: bool) -> Vec<Next> {
        let mut out = Vec::new();
        for (job, state) in self.states.iter_mut().enumerate() {
            let State::Running(group) = state else {
                continue;
            };
            let limit = group
                .strategy
                .max_parallel
                .unwrap_or(group.strategy.instances)
                .max(1);
            while group.running < limit
                && let Some(instance) = group.queued.pop_front()
            {
                group.running += 1;
                out.push(if group.cancelled && !run_cancelled {
                    Next::Cancel { job, instance }
                } else {
                    Next::Start { job, instance }
                });
            }
        }
        out
    }

    /// An instance of `job` ended with `result`.
    pub(crate) fn finished(&mut self, job: JobIndex, result: Conclusion) -> Finish {
        let Some(State::Running(group)) = self.states.get_mut(job) else {
            return Finish::default();
        };
        group.running = group.running.saturating_sub(1);
        group.results.push(result);
        let mut finish = Finish::default();
        if result == Conclusion::Failure
            && group.strategy.fail_fast
            && !group.strategy.continue_on_error
            && !group.cancelled
        {
            group.cancelled = true;
            finish.cancel_running = true;
        }
        if group.queued.is_empty() && group.running == 0 {
            let result = aggregate(group.results.iter().copied(), false);
            self.states[job] = State::Done;
            finish.done = Some(result);
        }
        finish
    }

    /// Jobs that never became ready (the rest of a `needs` cycle); they
    /// count as skipped.
    pub(crate) fn never_ready(&self) -> Vec<JobIndex> {
        (0..self.states.len())
            .filter(|j| matches!(self.states[*j], State::Pending))
            .collect()
    }
}

/// The result of several jobs or instances together: a failure fails it,
/// else a cancellation cancels it, else it is skipped when every part was.
pub(crate) fn aggregate(results: impl Iterator<Item = Conclusion>, cancelled: bool) -> Conclusion {
    let mut any = false;
    let mut all_skipped = true;
    let mut cancelled = cancelled;
    for result in results {
        any = true;
        match result {
            Conclusion::Failure => return Conclusion::Failure,
            Conclusion::Cancelled => cancelled = true,
            Conclusion::Success => {}
            Conclusion::Skipped => continue,
        }
        all_skipped = false;
    }
    if cancelled {
        Conclusion::Cancelled
    } else if any && all_skipped {
        Conclusion::Skipped
    } else {
        Conclusion::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(instances: usize) -> Strategy {
        Strategy {
            instances,
            max_parallel: None,
            fail_fast: true,
            continue_on_error: false,
        }
    }

    fn starts(next: &[Next]) -> Vec<(JobIndex, usize)> {
        next.iter()
            .filter_map(|n| match n {
                Next::Start { job, instance } => Some((*job, *instance)),
                Next::Cancel { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_job_is_ready_only_once_its_needs_have_finished() {
        // 0 <- 1 <- 2, and 3 needs nothing.
        let mut d = Dispatcher::new(vec![vec![], vec![0], vec![1], vec![]]);
        assert_eq!(d.ready(), vec![0, 3]);
        assert_eq!(d.ready(), Vec::<JobIndex>::new(), "handed out once");
        d.expand(0, one(1));
        assert_eq!(starts(&d.next(false)), vec![(0, 0)]);
        assert_eq!(d.ready(), Vec::<JobIndex>::new(), "0 still runs");
        let f = d.finished(0, Conclusion::Success);
        assert_eq!(f.done, Some(Conclusion::Success));
        assert_eq!(d.ready(), vec![1]);
    }

    #[test]
    fn fail_fast_cancels_running_and_queued_siblings() {
        let mut d = Dispatcher::new(vec![vec![]]);
        d.ready();
        d.expand(
            0,
            Strategy {
                max_parallel: Some(2),
                ..one(4)
            },
        );
        assert_eq!(starts(&d.next(false)), vec![(0, 0), (0, 1)]);
        let f = d.finished(0, Conclusion::Failure);
        assert!(f.cancel_running, "the running sibling is cancelled");
        assert_eq!(f.done, None);
        // The queued instances are handed out to be reported as cancelled.
        assert_eq!(
            d.next(false),
            vec![Next::Cancel {
                job: 0,
                instance: 2
            }]
        );
        d.finished(0, Conclusion::Cancelled);
        assert_eq!(
            d.next(false),
            vec![Next::Cancel {
                job: 0,
                instance: 3
            }]
        );
        d.finished(0, Conclusion::Cancelled);
        let f = d.finished(0, Conclusion::Cancelled);
        assert!(!f.cancel_running, "cancelled once");
        assert_eq!(f.done, Some(Conclusion::Failure));
    }

    #[test]
    fn without_fail_fast_or_with_continue_on_error_siblings_go_on() {
        for strategy in [
            Strategy {
                fail_fast: false,
                ..one(2)
            },
            Strategy {
                continue_on_error: true,
                ..one(2)
            },
        ] {
            let mut d = Dispatcher::new(vec![vec![]]);
            d.ready();
            d.expand(0, strategy);
            assert_eq!(starts(&d.next(false)).len(), 2);
            assert!(!d.finished(0, Conclusion::Failure).cancel_running);
        }
    }

    #[test]
    fn max_parallel_bounds_the_running_instances() {
        let mut d = Dispatcher::new(vec![vec![]]);
        d.ready();
        d.expand(
            0,
            Strategy {
                max_parallel: Some(2),
                ..one(5)
            },
        );
        let mut running = starts(&d.next(false)).len();
        let mut started = running;
        assert_eq!(running, 2);
        while started < 5 {
            d.finished(0, Conclusion::Success);
            running -= 1;
            let now = starts(&d.next(false)).len();
            running += now;
            started += now;
            assert!(running <= 2, "{running} instances run at once");
        }
        assert_eq!(d.next(false), Vec::new());
    }

    #[test]
    fn a_cancelled_run_still_starts_queued_instances() {
        let mut d = Dispatcher::new(vec![vec![]]);
        d.ready();
        d.expand(
            0,
            Strategy {
                max_parallel: Some(1),
                ..one(2)
            },
        );
        d.next(false);
        d.finished(0, Conclusion::Failure);
        // The run is being cancelled: the job runs, to see `cancelled()`.
        assert_eq!(
            d.next(true),
            vec![Next::Start {
                job: 0,
                instance: 1
            }]
        );
    }

    #[test]
    fn a_job_that_does_not_run_releases_its_dependants() {
        // 1 needs 0; 0 is skipped (or fails its `if:`): 1 is still handed
        // out, so its own `if:` (`always()`, `failure()`) decides.
        let mut d = Dispatcher::new(vec![vec![], vec![0]]);
        assert_eq!(d.ready(), vec![0]);
        d.conclude(0);
        assert_eq!(d.ready(), vec![1]);
    }

    #[test]
    fn failed_needs_release_dependants_after_every_instance_ended() {
        let mut d = Dispatcher::new(vec![vec![], vec![0]]);
        d.ready();
        d.expand(
            0,
            Strategy {
                fail_fast: false,
                ..one(2)
            },
        );
        d.next(false);
        d.finished(0, Conclusion::Failure);
        assert_eq!(d.ready(), Vec::<JobIndex>::new(), "one instance still runs");
        assert_eq!(
            d.finished(0, Conclusion::Success).done,
            Some(Conclusion::Failure)
        );
        assert_eq!(d.ready(), vec![1]);
    }

    #[test]
    fn jobs_in_a_needs_cycle_never_become_ready() {
        let mut d = Dispatcher::new(vec![vec![1], vec![0], vec![]]);
        assert_eq!(d.ready(), vec![2]);
        d.conclude(2);
        assert_eq!(d.ready(), Vec::<JobIndex>::new());
        assert_eq!(d.never_ready(), vec![0, 1]);
    }

    #[test]
    fn aggregate_orders_failure_cancelled_skipped_success() {
        use Conclusion::*;
        let agg = |r: &[Conclusion], c| aggregate(r.iter().copied(), c);
        assert_eq!(agg(&[Success, Failure, Cancelled], false), Failure);
        assert_eq!(agg(&[Success, Cancelled], false), Cancelled);
        assert_eq!(agg(&[Success], true), Cancelled);
        assert_eq!(agg(&[Skipped, Skipped], false), Skipped);
        assert_eq!(agg(&[Skipped, Success], false), Success);
        assert_eq!(agg(&[], false), Success);
    }
}

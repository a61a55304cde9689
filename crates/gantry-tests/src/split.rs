//! Test files split into shards of about equal time.
//!
//! Each file weighs its recorded duration; a file with no history weighs
//! its size times the seconds per byte of the files that have one (or just
//! its size when none has). Files are placed longest first on the least
//! loaded shard, then single moves and swaps that lower the slowest shard
//! are made until none is left. The result depends only on the inputs:
//! the same history gives the same shards on every machine.

use serde::Serialize;

/// Most files one split takes.
pub const MAX_FILES: usize = 1_000_000;
/// Most shards.
pub const MAX_SHARDS: usize = 10_000;

/// A file to place, with what is known of it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileWeight {
    pub file: String,
    /// Recorded seconds, when there is history.
    pub seconds: Option<f64>,
    /// Size in bytes, for files with no history.
    pub size: u64,
}

/// One shard of a split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shard {
    /// 1-based, as a matrix `shard: [1, 2, 3, 4]` counts.
    pub index: usize,
    pub files: Vec<String>,
    /// Expected seconds (recorded, or estimated from size).
    pub seconds: f64,
}

/// How a set of files was split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitPlan {
    pub shards: Vec<Shard>,
    /// Files placed by size because nothing was recorded for them.
    pub estimated: Vec<String>,
    /// No split can have a slowest shard below this: the larger of the
    /// mean shard time and the longest file.
    pub lower_bound: f64,
}

impl SplitPlan {
    /// The slowest shard's expected seconds.
    pub fn makespan(&self) -> f64 {
        self.shards.iter().map(|s| s.seconds).fold(0.0, f64::max)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    #[error("--shards must be at least 1 (and at most {MAX_SHARDS})")]
    Shards,
    #[error("--index {index} is outside 1..={shards}")]
    Index { index: usize, shards: usize },
    #[error("more than {MAX_FILES} files to split")]
    TooManyFiles,
}

/// Splits `files` into `shards` shards.
pub fn split(files: &[FileWeight], shards: usize) -> Result<SplitPlan, SplitError> {
    if shards == 0 || shards > MAX_SHARDS {
        return Err(SplitError::Shards);
    }
    if files.len() > MAX_FILES {
        return Err(SplitError::TooManyFiles);
    }
    // Seconds per byte of the files with history, for those without.
    let (timed_seconds, timed_bytes) = files
        .iter()
        .filter_map(|f| f.seconds.map(|s| (s, f.size)))
        .fold((0.0, 0u64), |(s, b), (fs, fb)| {
            (s + fs, b.saturating_add(fb))
        });
    let per_byte = if timed_bytes > 0 && timed_seconds > 0.0 {
        timed_seconds / timed_bytes as f64
    } else {
        1.0
    };
    let mut estimated = Vec::new();
    let mut items: Vec<(f64, &str)> = files
        .iter()
        .map(|f| {
            let weight = match f.seconds {
                Some(s) if s.is_finite() && s >= 0.0 => s,
                _ => {
                    estimated.push(f.file.clone());
                    f.size.max(1) as f64 * per_byte
                }
            };
            (weight, f.file.as_str())
        })
        .collect();
    // Longest first; equal weights in name order, so the order is total.
    items.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    items.dedup_by(|a, b| a.1 == b.1);

    let mut loads = vec![0.0f64; shards];
    let mut placed: Vec<Vec<(f64, &str)>> = vec![Vec::new(); shards];
    for item in &items {
        let target = least_loaded(&loads);
        loads[target] += item.0;
        placed[target].push(*item);
    }
    improve(&mut loads, &mut placed, items.len());

    let total: f64 = items.iter().map(|i| i.0).sum();
    let longest = items.first().map_or(0.0, |i| i.0);
    estimated.sort();
    let shards = placed
        .into_iter()
        .enumerate()
        .map(|(i, mut files)| {
            files.sort_by(|a, b| a.1.cmp(b.1));
            Shard {
                index: i + 1,
                seconds: files.iter().map(|f| f.0).sum(),
                files: files.into_iter().map(|f| f.1.to_string()).collect(),
            }
        })
        .collect();
    Ok(SplitPlan {
        shards,
        estimated,
        lower_bound: (total / loads.len() as f64).max(longest),
    })
}

/// The files of shard `index` (1-based).
pub fn shard(plan: &SplitPlan, index: usize) -> Result<&Shard, SplitError> {
    index
        .checked_sub(1)
        .and_then(|i| plan.shards.get(i))
        .ok_or(SplitError::Index {
            index,
            shards: plan.shards.len(),
        })
}

fn least_loaded(loads: &[f64]) -> usize {
    let mut best = 0;
    for (i, load) in loads.iter().enumerate() {
        if *load < loads[best] {
            best = i;
        }
    }
    best
}

fn most_loaded(loads: &[f64]) -> usize {
    let mut best = 0;
    for (i, load) in loads.iter().enumerate() {
        if *load > loads[best] {
            best = i;
        }
    }
    best
}

/// Indexes in `shard` (sorted by weight) of the items nearest `target`.
fn nearest(shard: &[(f64, &str)], target: f64) -> impl Iterator<Item = usize> {
    let at = shard.partition_point(|item| item.0 < target);
    [at.checked_sub(1), (at < shard.len()).then_some(at)]
        .into_iter()
        .flatten()
}

/// Moves and swaps out of the slowest shard while one lowers it, at most
/// a bounded number of times. Shards are kept sorted by weight, so the
/// best partner of an item is found by binary search.
fn improve(loads: &mut [f64], placed: &mut [Vec<(f64, &str)>], items: usize) {
    const EPSILON: f64 = 1e-9;
    let by_weight =
        |a: &(f64, &str), b: &(f64, &str)| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1));
    for shard in placed.iter_mut() {
        shard.sort_by(by_weight);
    }
    for _ in 0..items.saturating_mul(2).min(2_000) {
        let max = most_loaded(loads);
        // (new maximum of the pair, item in max, other shard, item in other)
        let mut best: Option<(f64, usize, usize, Option<usize>)> = None;
        let mut consider = |candidate: (f64, usize, usize, Option<usize>)| {
            if best.is_none_or(|b| candidate.0 < b.0 - EPSILON) {
                best = Some(candidate);
            }
        };
        for other in (0..loads.len()).filter(|o| *o != max) {
            let gap = loads[max] - loads[other];
            if gap <= EPSILON {
                continue;
            }
            // The best single move is the item nearest half the gap.
            for i in nearest(&placed[max], gap / 2.0) {
                let a = placed[max][i].0;
                if a > EPSILON && a < gap - EPSILON {
                    consider(((loads[max] - a).max(loads[other] + a), i, other, None));
                }
            }
            // The best swap for each item a is the b nearest a - gap/2.
            for (i, a) in placed[max].iter().enumerate() {
                for j in nearest(&placed[other], a.0 - gap / 2.0) {
                    let delta = a.0 - placed[other][j].0;
                    if delta > EPSILON && delta < gap - EPSILON {
                        consider((
                            (loads[max] - delta).max(loads[other] + delta),
                            i,
                            other,
                            Some(j),
                        ));
                    }
                }
            }
        }
        let Some((new_max, i, other, swap)) = best else {
            return;
        };
        if new_max >= loads[max] - EPSILON {
            return;
        }
        let a = placed[max].remove(i);
        loads[max] -= a.0;
        loads[other] += a.0;
        if let Some(j) = swap {
            let b = placed[other].remove(j);
            loads[other] -= b.0;
            loads[max] += b.0;
            let at = placed[max].partition_point(|x| by_weight(x, &b).is_lt());
            placed[max].insert(at, b);
        }
        let at = placed[other].partition_point(|x| by_weight(x, &a).is_lt());
        placed[other].insert(at, a);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn timed(file: &str, seconds: f64) -> FileWeight {
        FileWeight {
            file: file.to_string(),
            seconds: Some(seconds),
            size: 100,
        }
    }

    #[test]
    fn equal_files_are_dealt_evenly_and_every_file_is_in_one_shard() {
        let files: Vec<_> = (0..8).map(|i| timed(&format!("t{i}.py"), 1.0)).collect();
        let plan = split(&files, 4).unwrap();
        assert_eq!(plan.shards.len(), 4);
        for s in &plan.shards {
            assert_eq!(s.files.len(), 2, "{plan:?}");
            assert_eq!(s.seconds, 2.0);
        }
        let mut all: Vec<_> = plan.shards.iter().flat_map(|s| s.files.clone()).collect();
        all.sort();
        assert_eq!(all.len(), 8);
        all.dedup();
        assert_eq!(all.len(), 8);
    }

    #[test]
    fn the_local_search_finds_the_optimum_greedy_misses() {
        // Longest first gives 3+2+2 / 3+2 (7); the optimum is 3+3 / 2+2+2.
        let files: Vec<_> = [3.0, 3.0, 2.0, 2.0, 2.0]
            .iter()
            .enumerate()
            .map(|(i, s)| timed(&format!("f{i}"), *s))
            .collect();
        let plan = split(&files, 2).unwrap();
        assert_eq!(plan.makespan(), 6.0, "{plan:?}");
        assert_eq!(plan.lower_bound, 6.0);
    }

    #[test]
    fn files_without_history_are_weighed_by_size_at_the_recorded_rate() {
        let files = vec![
            FileWeight {
                file: "old.py".into(),
                seconds: Some(10.0),
                size: 1000,
            },
            FileWeight {
                file: "new.py".into(),
                seconds: None,
                size: 1000,
            },
        ];
        let plan = split(&files, 2).unwrap();
        assert_eq!(plan.estimated, ["new.py"]);
        assert_eq!(plan.shards[0].seconds, 10.0);
        assert_eq!(plan.shards[1].seconds, 10.0);
    }

    #[test]
    fn the_same_input_in_any_order_gives_the_same_split() {
        let mut files: Vec<_> = (0..40)
            .map(|i| timed(&format!("t{i:02}.py"), f64::from((i * 37) % 11 + 1)))
            .collect();
        let first = split(&files, 3).unwrap();
        files.reverse();
        assert_eq!(split(&files, 3).unwrap(), first);
    }

    #[test]
    fn bad_shard_counts_and_indexes_are_refused() {
        assert_eq!(split(&[], 0), Err(SplitError::Shards));
        let plan = split(&[timed("a", 1.0)], 2).unwrap();
        assert!(shard(&plan, 0).is_err());
        assert!(shard(&plan, 3).is_err());
        assert_eq!(shard(&plan, 1).unwrap().files, ["a"]);
        assert!(shard(&plan, 2).unwrap().files.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn every_file_lands_in_exactly_one_shard(
            weights in proptest::collection::vec(0.0f64..100.0, 0..60),
            shards in 1usize..8,
        ) {
            let files: Vec<_> = weights.iter().enumerate().map(|(i, w)| timed(&format!("f{i}"), *w)).collect();
            let plan = split(&files, shards).unwrap();
            let mut all: Vec<_> = plan.shards.iter().flat_map(|s| s.files.clone()).collect();
            all.sort();
            let mut want: Vec<_> = files.iter().map(|f| f.file.clone()).collect();
            want.sort();
            proptest::prop_assert_eq!(all, want);
            proptest::prop_assert!(plan.makespan() + 1e-6 >= plan.lower_bound);
            // Graham's bound for any list schedule: the mean plus the longest file.
            let total: f64 = weights.iter().sum();
            let longest = weights.iter().cloned().fold(0.0, f64::max);
            proptest::prop_assert!(plan.makespan() <= total / shards as f64 + longest + 1e-6);
        }
    }
}

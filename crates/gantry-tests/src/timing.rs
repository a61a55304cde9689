//! Recorded durations per test file, for the split.
//!
//! Reports name a test's file in different ways: a `file` attribute
//! (relative to wherever the runner ran), a Python module path in
//! `classname` (`tests.unit.test_greet`, or `tests.unit.test_greet.TestX`
//! for a class), or the spec file as `classname` (Playwright). Each file
//! given to the split is found by all of these. A file's duration is the
//! mean, over the jobs that ran it, of the time its cases took in that job.

use std::collections::HashMap;

use crate::junit::TestCase;
use crate::split::FileWeight;

/// A file given to the split: its path as the user wrote it and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFile {
    pub path: String,
    pub size: u64,
}

fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut path = path.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_string()
}

/// Keys by which a case may name `path`.
fn keys(path: &str) -> Vec<String> {
    let mut keys = Vec::new();
    // Every suffix at a `/`: reports give paths relative to their own root.
    let mut rest = path;
    loop {
        keys.push(rest.to_string());
        match rest.split_once('/') {
            Some((_, tail)) if !tail.is_empty() => rest = tail,
            _ => break,
        }
    }
    if let Some(module) = path.strip_suffix(".py") {
        keys.push(module.replace('/', "."));
    }
    keys
}

struct Index {
    /// key → file index; `None` when two files share the key.
    by_key: HashMap<String, Option<usize>>,
}

impl Index {
    fn new(files: &[SplitFile]) -> Index {
        let mut by_key: HashMap<String, Option<usize>> = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            for key in keys(&normalize(&f.path)) {
                by_key
                    .entry(key)
                    .and_modify(|v| {
                        if *v != Some(i) {
                            *v = None;
                        }
                    })
                    .or_insert(Some(i));
            }
        }
        Index { by_key }
    }

    fn get(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied().flatten()
    }

    fn file_of(&self, case: &TestCase) -> Option<usize> {
        if let Some(file) = &case.file {
            let file = normalize(file);
            // The report's path may be longer (absolute) or shorter than
            // the user's: try it and each of its suffixes.
            let mut rest = file.as_str();
            loop {
                if let Some(i) = self.get(rest) {
                    return Some(i);
                }
                match rest.split_once('/') {
                    Some((_, tail)) if !tail.is_empty() => rest = tail,
                    _ => break,
                }
            }
        }
        // A module path, dropping class names from the end.
        let mut class = case.classname.as_str();
        loop {
            if class.is_empty() {
                return None;
            }
            if let Some(i) = self.get(class) {
                return Some(i);
            }
            match class.rsplit_once('.') {
                Some((head, _)) => class = head,
                None => return None,
            }
        }
    }
}

/// The weight of each file from `history`: (the job a case ran in, the
/// case). Jobs are any key that tells one job instance from another.
pub fn file_weights<'a, J: Eq + std::hash::Hash>(
    files: &[SplitFile],
    history: impl IntoIterator<Item = (J, &'a TestCase)>,
) -> Vec<FileWeight> {
    let index = Index::new(files);
    // (file, job) → seconds
    let mut per_job: HashMap<(usize, J), f64> = HashMap::new();
    for (job, case) in history {
        let (Some(seconds), Some(file)) = (case.duration, index.file_of(case)) else {
            continue;
        };
        *per_job.entry((file, job)).or_default() += seconds;
    }
    let mut totals = vec![(0.0f64, 0u32); files.len()];
    for ((file, _), seconds) in per_job {
        totals[file].0 += seconds;
        totals[file].1 += 1;
    }
    files
        .iter()
        .zip(totals)
        .map(|(f, (sum, jobs))| FileWeight {
            file: f.path.clone(),
            seconds: (jobs > 0).then(|| sum / f64::from(jobs)),
            size: f.size,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::junit::Outcome;

    fn case(classname: &str, file: Option<&str>, seconds: f64) -> TestCase {
        TestCase {
            suite: String::new(),
            classname: classname.to_string(),
            name: "t".to_string(),
            file: file.map(str::to_string),
            duration: Some(seconds),
            outcome: Outcome::Passed,
            retries: 0,
            flaky: false,
            message: None,
            line: 1,
        }
    }

    fn files(paths: &[&str]) -> Vec<SplitFile> {
        paths
            .iter()
            .map(|p| SplitFile {
                path: p.to_string(),
                size: 10,
            })
            .collect()
    }

    #[test]
    fn cases_find_their_file_by_path_module_or_spec_name() {
        let files = files(&[
            "tests/unit/test_greet.py",
            "./e2e/login.spec.ts",
            "src/sum.test.js",
        ]);
        let history = [
            (1, case("tests.unit.test_greet", None, 1.0)),
            (1, case("tests.unit.test_greet.TestGreeter", None, 2.0)),
            (1, case("login.spec.ts", None, 4.0)),
            (1, case("sum", Some("/home/ci/repo/src/sum.test.js"), 8.0)),
            (1, case("elsewhere", Some("other.py"), 16.0)),
        ];
        let weights = file_weights(&files, history.iter().map(|(j, c)| (*j, c)));
        let seconds: Vec<_> = weights.iter().map(|w| w.seconds).collect();
        assert_eq!(seconds, [Some(3.0), Some(4.0), Some(8.0)]);
    }

    #[test]
    fn a_file_weighs_its_mean_time_per_job_that_ran_it() {
        let files = files(&["tests/test_a.py", "tests/test_new.py"]);
        let history = [
            ("run1/test", case("tests.test_a", None, 1.0)),
            ("run1/test", case("tests.test_a", None, 1.0)),
            ("run2/test", case("tests.test_a", None, 4.0)),
        ];
        let weights = file_weights(&files, history.iter().map(|(j, c)| (*j, c)));
        assert_eq!(weights[0].seconds, Some(3.0));
        assert_eq!(weights[1].seconds, None);
    }

    #[test]
    fn a_key_two_files_share_names_neither() {
        let files = files(&["a/test_x.py", "b/test_x.py"]);
        let history = [(1, case("other", Some("test_x.py"), 1.0))];
        let weights = file_weights(&files, history.iter().map(|(j, c)| (*j, c)));
        assert!(weights.iter().all(|w| w.seconds.is_none()));
    }
}

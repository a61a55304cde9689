//! `actions/cache`, `actions/cache/restore` and `actions/cache/save`, with
//! GitHub's key semantics: the exact key first, then the newest entry
//! whose key starts with one of the `restore-keys`, in order. A cache is
//! saved at the end of a successful job unless the exact key was restored.

use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use super::super::job::{JobRun, LogSink, PostAction, PostStep, StepExec};
use super::lines;

/// GitHub's cache version: the paths and the compression, so that the same
/// key with other paths is another cache.
fn version(paths: &[String]) -> String {
    let mut hasher = Sha256::new();
    for p in paths {
        hasher.update(p.as_bytes());
        hasher.update(b"|");
    }
    hasher.update(b"zstd|gantry-1");
    format!("{:x}", hasher.finalize())
}

/// The cache paths made relative to the workspace. Paths outside it (other
/// than the job's temp and tool cache) are left out with a warning: jobs
/// run on this machine, and restoring into its real home folder could
/// overwrite the user's files.
fn relative_paths(run: &JobRun, paths: &[String], log: &mut LogSink) -> Vec<String> {
    let home = std::env::var("HOME").unwrap_or_default();
    let mut out = Vec::new();
    for p in paths {
        let (negated, body) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, p.as_str()),
        };
        let expanded = match body.strip_prefix("~/") {
            Some(rest) => format!("{home}/{rest}"),
            None => body.to_string(),
        };
        let path = Path::new(&expanded);
        let relative = if path.is_absolute() {
            match path.strip_prefix(&run.workspace) {
                Ok(rel) => rel.to_string_lossy().into_owned(),
                Err(_) => {
                    log.warning(&format!(
                        "`{p}` is outside the workspace; gantry caches only paths inside it"
                    ));
                    continue;
                }
            }
        } else {
            expanded.clone()
        };
        if Path::new(&relative)
            .components()
            .any(|c| matches!(c, Component::ParentDir))
        {
            log.warning(&format!("`{p}` leaves the workspace; skipped"));
            continue;
        }
        out.push(if negated {
            format!("!{relative}")
        } else {
            relative
        });
    }
    out
}

pub(crate) fn cache(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    restore: bool,
    save_later: bool,
    log: &mut LogSink,
) -> StepExec {
    let Some(key) = input("key") else {
        return StepExec::failed("input `key` is required", log);
    };
    let Some(paths) = input("path").map(|p| lines(&p)) else {
        return StepExec::failed("input `path` is required", log);
    };
    let paths = relative_paths(run, &paths, log);
    let version = version(&paths);
    let mut keys = vec![key.clone()];
    keys.extend(input("restore-keys").map(|r| lines(&r)).unwrap_or_default());
    let mut outputs = vec![("cache-primary-key".to_string(), key.clone())];
    let mut exact = false;
    if restore {
        let lookup_only = input("lookup-only").is_some_and(|v| v == "true");
        let dest = if lookup_only {
            run.temp.join("lookup")
        } else {
            run.workspace.clone()
        };
        match run.shared.backend.restore_cache(&keys, &version, &dest) {
            Ok(Some(hit)) => {
                exact = hit.exact;
                log.info(&format!("cache restored from key: {}", hit.matched_key));
                run.shared.recorded(run.shared.backend.record_cache(
                    run.shared.run_id,
                    &key,
                    Some(&hit.matched_key),
                ));
                run.cache_hits += 1;
                outputs.push(("cache-hit".into(), exact.to_string()));
                outputs.push(("cache-matched-key".into(), hit.matched_key));
            }
            Ok(None) => {
                if input("fail-on-cache-miss").is_some_and(|v| v == "true") {
                    return StepExec::failed(
                        format!("no cache for key `{key}` and `fail-on-cache-miss` is set"),
                        log,
                    );
                }
                log.info(&format!(
                    "cache not found for input keys: {}",
                    keys.join(", ")
                ));
                run.shared.recorded(
                    run.shared
                        .backend
                        .record_cache(run.shared.run_id, &key, None),
                );
                run.cache_misses += 1;
                outputs.push(("cache-hit".into(), "false".into()));
            }
            Err(e) => {
                log.warning(&format!("cache restore failed: {e}"));
                outputs.push(("cache-hit".into(), "false".into()));
            }
        }
    }
    if save_later && !exact {
        run.post.push(PostStep {
            name: format!("Post cache {key}"),
            condition: "success()".into(),
            action: PostAction::SaveCache {
                key,
                version,
                paths,
            },
        });
    }
    StepExec::ok(outputs)
}

pub(crate) fn save_step(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    let Some(key) = input("key") else {
        return StepExec::failed("input `key` is required", log);
    };
    let Some(paths) = input("path").map(|p| lines(&p)) else {
        return StepExec::failed("input `path` is required", log);
    };
    let paths = relative_paths(run, &paths, log);
    let version = version(&paths);
    save(run, &key, &version, &paths, log)
}

pub(crate) fn save(
    run: &mut JobRun,
    key: &str,
    version: &str,
    paths: &[String],
    log: &mut LogSink,
) -> StepExec {
    match run
        .shared
        .backend
        .save_cache(key, version, &run.workspace, paths)
    {
        Ok(true) => {
            log.info(&format!("cache saved with key: {key}"));
            StepExec::ok(Vec::new())
        }
        Ok(false) => {
            log.info(&format!(
                "a cache with key `{key}` already exists; not saved (caches are immutable)"
            ));
            StepExec::ok(Vec::new())
        }
        Err(e) => {
            // A failed save warns, as on GitHub; it does not fail the job.
            log.warning(&format!("cache save failed: {e}"));
            StepExec::ok(Vec::new())
        }
    }
}

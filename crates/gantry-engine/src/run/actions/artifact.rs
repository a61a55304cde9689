//! `actions/upload-artifact` and `actions/download-artifact`: artifacts
//! belong to the run, so later jobs of the same run can download them.

use std::path::{Path, PathBuf};

use super::super::confine;
use super::super::job::{JobRun, LogSink, StepExec};
use super::lines;

pub(crate) fn upload(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    let name = input("name").unwrap_or_else(|| "artifact".into());
    let Some(paths) = input("path").map(|p| lines(&p)) else {
        return StepExec::failed("input `path` is required", log);
    };
    if !confine::artifact_name_ok(&name) {
        return StepExec::failed(
            format!(
                "`{name}` is not an artifact name: it must be one name, without `/`, `\\` or `..`"
            ),
            log,
        );
    }
    for p in paths.iter().filter(|p| !p.starts_with('!')) {
        if let Err(e) = confined(&run.workspace, p) {
            return StepExec::failed(
                format!("{e}; artifacts are uploaded from the workspace only"),
                log,
            );
        }
    }
    let relative: Vec<String> = paths
        .iter()
        .map(|p| {
            let (neg, body) = match p.strip_prefix('!') {
                Some(b) => ("!", b),
                None => ("", p.as_str()),
            };
            let body = Path::new(body)
                .strip_prefix(&run.workspace)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_else(|_| body.to_string());
            format!("{neg}{body}")
        })
        .collect();
    // As upload-artifact does, files are stored relative to the deepest
    // folder that holds everything uploaded.
    let workspace_relative = relative.clone();
    let (root, relative) = common_root(&run.workspace, &relative);
    // Links inside what is uploaded never lead out of the workspace.
    for p in relative.iter().filter(|p| !p.starts_with('!')) {
        let literal = root.join(literal_dir(&root, p));
        let literal = if literal.exists() {
            literal
        } else {
            root.join(p)
        };
        if let Some((link, target)) = confine::link_out_of(&run.workspace, &literal) {
            let shown = link.strip_prefix(&run.workspace).unwrap_or(&link);
            return StepExec::failed(
                format!(
                    "`{}` is a symbolic link to {}, outside the workspace; artifacts never follow links out of the workspace",
                    shown.display(),
                    target.display()
                ),
                log,
            );
        }
    }
    let retention = input("retention-days").and_then(|d| d.parse().ok());
    let if_none = input("if-no-files-found").unwrap_or_else(|| "warn".into());
    match run
        .shared
        .backend
        .upload_artifact(run.shared.run_id, &name, &root, &relative, retention)
    {
        Ok(stored) if stored.files == 0 => {
            match if_none.as_str() {
                "error" => StepExec::failed(
                    format!(
                        "no files were found with the provided path: {}",
                        paths.join(", ")
                    ),
                    log,
                ),
                "ignore" => StepExec::ok(Vec::new()),
                _ => {
                    log.warning(&format!("no files were found with the provided path: {}; no artifact will be uploaded", paths.join(", ")));
                    StepExec::ok(Vec::new())
                }
            }
        }
        Ok(stored) => {
            log.info(&format!(
                "artifact `{}` uploaded: {} files, {} bytes",
                stored.name, stored.files, stored.bytes
            ));
            super::test_report::record_from_artifact(run, &stored.name, &workspace_relative, log);
            StepExec::ok(vec![("artifact-id".into(), stored.name)])
        }
        Err(e) => StepExec::failed(format!("upload of `{name}` failed: {e}"), log),
    }
}

pub(crate) fn download(
    run: &mut JobRun,
    input: &(dyn Fn(&str) -> Option<String> + Sync),
    log: &mut LogSink,
) -> StepExec {
    // Into the workspace, or the runner's temp folder; nowhere else.
    let dest = match input("path") {
        Some(p) => match confine::inside(&run.workspace, &p, "workspace") {
            Ok(d) => d,
            Err(e) => match confine::inside(&run.temp, &p, "runner temp folder") {
                Ok(d) if Path::new(&p).is_absolute() => d,
                _ => {
                    return StepExec::failed(
                        format!(
                            "{e}; artifacts are downloaded into the workspace or $RUNNER_TEMP only"
                        ),
                        log,
                    );
                }
            },
        },
        None => run.workspace.clone(),
    };
    let name = input("name");
    if let Some(n) = name.as_deref().filter(|n| !confine::artifact_name_ok(n)) {
        return StepExec::failed(
            format!(
                "`{n}` is not an artifact name: it must be one name, without `/`, `\\` or `..`"
            ),
            log,
        );
    }
    let pattern = name.clone().or_else(|| input("pattern"));
    if let Some(p) = pattern
        .as_deref()
        .filter(|p| p.contains(['/', '\\']) || p.contains(".."))
    {
        return StepExec::failed(
            format!(
                "`{p}` is not an artifact name pattern: artifact names hold no `/`, `\\` or `..`"
            ),
            log,
        );
    }
    // One named artifact lands in `path`; several land in a folder each,
    // unless `merge-multiple` is set.
    let per_artifact = name.is_none() && input("merge-multiple").is_none_or(|m| m != "true");
    let mut downloaded = run.shared.backend.download_artifact(
        run.shared.run_id,
        pattern.as_deref(),
        &dest,
        per_artifact,
    );
    // A job run alone (`--no-deps`) downloads what its needs uploaded in
    // the run their results come from, as a re-run job does on GitHub.
    let missing = match &downloaded {
        Ok(found) => found.is_empty(),
        Err(_) => true,
    };
    if let (true, Some(earlier)) = (missing, run.shared.options.selection.artifacts_from) {
        let from_earlier =
            run.shared
                .backend
                .download_artifact(earlier, pattern.as_deref(), &dest, per_artifact);
        if from_earlier.as_ref().is_ok_and(|found| !found.is_empty()) {
            downloaded = from_earlier;
        }
    }
    match downloaded {
        Ok(found) if found.is_empty() => StepExec::failed(
            match name {
                Some(n) => format!("artifact not found: {n}"),
                None => "no artifacts found in this run".into(),
            },
            log,
        ),
        Ok(found) => {
            for a in &found {
                log.info(&format!(
                    "artifact `{}` downloaded to {}: {} files",
                    a.name,
                    dest.display(),
                    a.files
                ));
            }
            StepExec::ok(vec![("download-path".into(), dest.display().to_string())])
        }
        Err(e) => StepExec::failed(format!("download failed: {e}"), log),
    }
}

/// An upload pattern that stays in the workspace: as written (no `..`
/// past it, nothing absolute outside it, no `..` after a glob) and through
/// the links of the part that exists.
fn confined(workspace: &Path, pattern: &str) -> Result<(), confine::Outside> {
    let mut globbed = false;
    for part in pattern.split('/') {
        if part == ".." && globbed {
            return Err(confine::Outside::Leaves {
                path: pattern.to_string(),
                place: "workspace",
            });
        }
        globbed |= part.contains(['*', '?', '[', '{']);
    }
    confine::inside(workspace, pattern, "workspace").map(|_| ())
}

/// The literal folder a path pattern starts with (before any glob).
fn literal_dir(workspace: &Path, pattern: &str) -> PathBuf {
    let mut dir = PathBuf::new();
    let parts: Vec<&str> = pattern
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for (i, part) in parts.iter().enumerate() {
        if part.contains(['*', '?', '[', '{']) {
            return dir;
        }
        let next = dir.join(part);
        let last = i + 1 == parts.len();
        if last && !workspace.join(&next).is_dir() {
            return dir;
        }
        dir = next;
    }
    dir
}

/// The deepest folder common to the include patterns, and the patterns
/// made relative to it.
fn common_root(workspace: &Path, patterns: &[String]) -> (PathBuf, Vec<String>) {
    let includes: Vec<PathBuf> = patterns
        .iter()
        .filter(|p| !p.starts_with('!'))
        .map(|p| literal_dir(workspace, p))
        .collect();
    let Some(first) = includes.first() else {
        return (workspace.to_path_buf(), patterns.to_vec());
    };
    let mut common: Vec<std::path::Component<'_>> = first.components().collect();
    for dir in &includes[1..] {
        let parts: Vec<_> = dir.components().collect();
        let same = common
            .iter()
            .zip(&parts)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(same);
    }
    let common: PathBuf = common.iter().collect();
    let rewritten = patterns
        .iter()
        .map(|p| {
            let (neg, body) = match p.strip_prefix('!') {
                Some(b) => ("!", b),
                None => ("", p.as_str()),
            };
            let body = body.trim_start_matches("./");
            let rel = Path::new(body)
                .strip_prefix(&common)
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_else(|_| body.to_string());
            let rel = if rel.is_empty() { ".".to_string() } else { rel };
            format!("{neg}{rel}")
        })
        .collect();
    (workspace.join(common), rewritten)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uploads_are_relative_to_the_common_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist/bin")).unwrap();
        std::fs::write(dir.path().join("dist/app.tar.gz"), "x").unwrap();
        let (root, paths) = common_root(dir.path(), &["dist/".into()]);
        assert_eq!(
            (root, paths),
            (dir.path().join("dist"), vec![".".to_string()])
        );
        let (root, paths) = common_root(dir.path(), &["dist/*.tar.gz".into(), "dist/bin".into()]);
        assert_eq!(root, dir.path().join("dist"));
        assert_eq!(paths, vec!["*.tar.gz".to_string(), "bin".to_string()]);
        let (root, _) = common_root(dir.path(), &["dist/app.tar.gz".into()]);
        assert_eq!(root, dir.path().join("dist"));
    }
}

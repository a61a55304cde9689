//! `actions/upload-artifact` and `actions/download-artifact`: artifacts
//! belong to the run, so later jobs of the same run can download them.

use std::path::Path;

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
    for p in &paths {
        let body = p.trim_start_matches('!');
        if Path::new(body).is_absolute() && !Path::new(body).starts_with(&run.workspace) {
            return StepExec::failed(format!("`{p}` is outside the workspace"), log);
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
    let retention = input("retention-days").and_then(|d| d.parse().ok());
    let if_none = input("if-no-files-found").unwrap_or_else(|| "warn".into());
    match run.shared.backend.upload_artifact(
        run.shared.run_id,
        &name,
        &run.workspace,
        &relative,
        retention,
    ) {
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
    let dest = match input("path") {
        Some(p) if Path::new(&p).is_absolute() => std::path::PathBuf::from(p),
        Some(p) => run.workspace.join(p),
        None => run.workspace.clone(),
    };
    let name = input("name");
    let pattern = name.clone().or_else(|| input("pattern"));
    // One named artifact lands in `path`; several land in a folder each,
    // unless `merge-multiple` is set.
    let per_artifact = name.is_none() && input("merge-multiple").is_none_or(|m| m != "true");
    match run.shared.backend.download_artifact(
        run.shared.run_id,
        pattern.as_deref(),
        &dest,
        per_artifact,
    ) {
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

//! `gantry deployments`, `gantry rollback` and `gantry approve --run`, and
//! what every `gantry run` needs for jobs with `environment:` (the
//! repository's environments and the rollbacks failed health checks ask
//! for).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use gantry_deliver::approvals::{self, RunApproval};
use gantry_deliver::deploy::{Deployer, RollbackOf};
use gantry_deliver::environments::{Environments, EnvironmentsError};
use gantry_deliver::rollback::{self, RollbackPlan};
use gantry_engine::plan::Event;
use gantry_engine::run::Conclusion;
use gantry_engine::session::Session;
use gantry_ledger::Ledger;
use gantry_store::{DeploymentId, DeploymentsDocument, Home, RunId, Store};
use indexmap::IndexMap;

use super::CliError;
use super::ledger::print_json;
use super::run::RunFormat;
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct DeploymentsArgs {
    /// Only the deployments to this environment.
    #[arg(long, short = 'e', value_name = "NAME")]
    pub environment: Option<String>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment to roll back.
    pub environment: String,
    /// The deployment to deploy again [default: the last successful one
    /// before the current one].
    #[arg(long, value_name = "DEPLOYMENT")]
    pub to: Option<DeploymentId>,
    /// How long the job waits for the environment's reviewers.
    #[arg(long, value_name = "DURATION", value_parser = gantry_deliver::health::parse_duration)]
    pub approval_timeout: Option<Duration>,
    /// A secret the job needs, `NAME=VALUE` (repeatable).
    #[arg(long = "secret", short = 's', value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// A file of secrets, one `NAME=VALUE` a line.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<std::path::PathBuf>,
    /// A configuration variable, `NAME=VALUE` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: RunFormat,
}

/// What a rollback's run is given besides the recorded run.
pub(super) struct Given {
    pub secrets: IndexMap<String, String>,
    pub vars: IndexMap<String, String>,
    pub format: RunFormat,
    pub approval_timeout: Option<Duration>,
    pub platforms: Vec<(String, String)>,
    pub toolchain_mismatch: gantry_engine::run::ToolchainMismatch,
}

/// Who starts deployments: `$GANTRY_ACTOR`, else `$USER`.
fn actor() -> String {
    std::env::var("GANTRY_ACTOR")
        .ok()
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn error(e: impl std::error::Error) -> CliError {
    CliError::usage(e.to_string(), None)
}

/// The repository's environments; `Err` with the outcome when the file
/// has problems (they are printed).
fn environments(root: &Path) -> Result<Result<Environments, Outcome>, CliError> {
    match Environments::load(root) {
        Ok(envs) => Ok(Ok(envs)),
        Err(EnvironmentsError::Invalid(problems)) => {
            Ok(Err(super::services::print_problems(&problems)))
        }
        Err(e) => Err(error(e)),
    }
}

/// The deployer of one `gantry run`.
pub(super) fn deployer(
    root: &Path,
    home: &Home,
    store: Arc<Store>,
    approval_timeout: Option<Duration>,
) -> Result<Result<Deployer, Outcome>, CliError> {
    let envs = match environments(root)? {
        Ok(envs) => envs,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut deployer = Deployer::new(
        root.to_path_buf(),
        envs,
        store,
        Some(home.ledger()),
        actor(),
    );
    if let Some(t) = approval_timeout {
        deployer.approval_timeout = t;
    }
    deployer.events = Arc::new(gantry_deliver::events::Outbox::new(deployer.store.clone()));
    let repo = root.to_path_buf();
    deployer.commit_times = Some(Arc::new(move |commit: &str| {
        gantry_engine::source::commit_time(&repo, commit)
            .map(|seconds| gantry_store::Timestamp(seconds.saturating_mul(1000)))
    }));
    Ok(Ok(deployer))
}

/// After a workflow ran: what could not be recorded as evidence, and the
/// rollbacks its failed health checks asked for (their conclusions are
/// added to `conclusions`).
pub(super) fn after_run(
    root: &Path,
    home: &Home,
    deployer: &Deployer,
    runtime: &tokio::runtime::Runtime,
    given: &Given,
    conclusions: &mut Vec<Conclusion>,
) -> Result<(), CliError> {
    for failure in deployer.take_evidence_failures() {
        eprintln!("gantry: warning: not recorded in the ledger: {failure}");
    }
    for failure in deployer.events.take_failures() {
        eprintln!("gantry: warning: {failure}");
    }
    for wanted in deployer.take_rollbacks() {
        let Some(to) = wanted.to else { continue };
        eprintln!(
            "gantry: auto_rollback: rolling `{}` back to deployment {to} (deployment {} failed its health check)",
            wanted.environment, wanted.from
        );
        let plan = rollback::plan(&deployer.store, &wanted.environment, Some(to)).map_err(error)?;
        let conclusion = roll_back(
            root,
            home,
            deployer.store.clone(),
            runtime,
            &plan,
            Some(wanted.from),
            given,
        )?;
        conclusions.push(conclusion);
    }
    deliver_notifications(&deployer.store, runtime);
    Ok(())
}

/// One pass over the outbox after a run or a rollout, so that its
/// notifications go out with it; what is not delivered stays in the
/// outbox for `gantry notifications deliver`.
pub(super) fn deliver_notifications(store: &Store, runtime: &tokio::runtime::Runtime) {
    use gantry_deliver::notify::{Deliverer, RetryPolicy};
    use gantry_store::DeliveryStatus;
    let Ok(deliverer) = Deliverer::new(RetryPolicy::default()) else {
        return;
    };
    let pass = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), deliverer.deliver_due(store)).await
    });
    let report = match pass {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            eprintln!("gantry: warning: notifications not sent: {e}");
            return;
        }
        Err(_) => {
            eprintln!(
                "gantry: warning: notifications took over 30 s; `gantry notifications` lists what is left"
            );
            return;
        }
    };
    if report.attempts.is_empty() {
        return;
    }
    let (sent, pending, failed) = (
        report.count(DeliveryStatus::Delivered),
        report.count(DeliveryStatus::Pending),
        report.count(DeliveryStatus::Failed),
    );
    eprintln!(
        "notifications: {sent} delivered{}{}",
        if pending > 0 {
            format!(", {pending} to retry (`gantry notifications deliver`)")
        } else {
            String::new()
        },
        if failed > 0 {
            format!(", {failed} failed (`gantry notifications`)")
        } else {
            String::new()
        }
    );
}

/// Runs `plan`: the deployment job of its run again, alone, at its
/// commit, ref and inputs.
fn roll_back(
    root: &Path,
    home: &Home,
    store: Arc<Store>,
    runtime: &tokio::runtime::Runtime,
    plan: &RollbackPlan,
    from: Option<DeploymentId>,
    given: &Given,
) -> Result<Conclusion, CliError> {
    let mut workflow = workflow_at(root, plan)?;
    workflow.jobs.retain(|id, _| *id == plan.job_id);
    let Some(job) = workflow.jobs.get_mut(&plan.job_id) else {
        return Err(CliError::usage(
            format!(
                "{} has no job `{}` any more, which made deployment {}",
                plan.workflow_path, plan.job_id, plan.target.id
            ),
            None,
        ));
    };
    // The job runs alone: what it needed ran when it first deployed.
    job.needs.clear();
    let mut deployer = match deployer(root, home, store.clone(), given.approval_timeout)? {
        Ok(d) => d,
        Err(_) => return Ok(Conclusion::Failure),
    };
    deployer.rollback_of = Some(RollbackOf {
        target: plan.target.id,
        from: from.or(plan.from.as_ref().map(|d| d.id)),
    });
    let deployer = Arc::new(deployer);
    let backend = crate::backend::backend(store, deployer.clone());
    let session = Session {
        repo: root.to_path_buf(),
        work_root: home.work(),
        locks: home.locks(),
        event: Event {
            name: plan.event.clone(),
            git_ref: plan.git_ref.clone(),
            inputs: plan.inputs.clone(),
            ..Event::default()
        },
        secrets: given.secrets.clone(),
        vars: given.vars.clone(),
        jobs: None,
        include_uncommitted: false,
        skip_unsupported: false,
        keep_workspaces: false,
        commit: Some(plan.commit.clone()),
        selection: Default::default(),
        platforms: given.platforms.clone(),
        actions: Some(gantry_actions::ActionStore::new(home.actions())),
        toolchain_mismatch: given.toolchain_mismatch,
        containers: Default::default(),
    };
    let (_, conclusion) = runtime.block_on(super::run::run_one(
        &session,
        Arc::new(workflow),
        backend,
        given.format,
    ))?;
    for failure in deployer.take_evidence_failures() {
        eprintln!("gantry: warning: not recorded in the ledger: {failure}");
    }
    for failure in deployer.events.take_failures() {
        eprintln!("gantry: warning: {failure}");
    }
    Ok(conclusion)
}

/// The workflow as it was at the deployment's commit, else as it is now.
fn workflow_at(root: &Path, plan: &RollbackPlan) -> Result<gantry_workflow::Workflow, CliError> {
    if let Some(text) = gantry_engine::source::file_at(root, &plan.commit, &plan.workflow_path) {
        let source = gantry_workflow::SourceFile::new(plan.workflow_path.clone(), text);
        let parsed =
            gantry_workflow::read_workflow(source, &gantry_workflow::ReadOptions::default());
        if !parsed.has_errors()
            && let Some(workflow) = parsed.value
        {
            return Ok(workflow);
        }
    }
    eprintln!(
        "gantry: warning: {} is not readable at commit {}; using the file as it is now",
        plan.workflow_path,
        short(&plan.commit)
    );
    let file = root.join(&plan.workflow_path);
    let (mut read, invalid) = super::read_workflows(root, std::slice::from_ref(&file))?;
    if invalid || read.is_empty() {
        return Err(CliError::usage(
            format!("cannot read {} to roll back", plan.workflow_path),
            None,
        ));
    }
    Ok(read.remove(0))
}

pub fn rollback(root: &Path, home: &Home, args: RollbackArgs) -> Result<Outcome, CliError> {
    let store = crate::backend::open_store(home.root())?;
    let plan = rollback::plan(&store, &args.environment, args.to).map_err(|e| {
        CliError::usage(
            e.to_string(),
            Some("`gantry deployments --environment NAME` lists them".into()),
        )
    })?;
    eprintln!(
        "gantry: rolling `{}` back to deployment {} (commit {}, run {})",
        plan.environment,
        plan.target.id,
        short(&plan.commit),
        plan.run
    );
    let given = Given {
        secrets: super::run::pairs(&args.secrets, args.secret_file.as_deref(), "secret")?,
        vars: super::run::pairs(&args.vars, None, "var")?,
        format: args.format,
        approval_timeout: args.approval_timeout,
        platforms: Vec::new(),
        toolchain_mismatch: Default::default(),
    };
    let runtime = super::run::runtime()?;
    let conclusion = roll_back(root, home, store, &runtime, &plan, None, &given)?;
    Ok(if conclusion == Conclusion::Success {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

fn short(text: &str) -> &str {
    text.get(..12).unwrap_or(text)
}

pub fn deployments(home: &Home, args: DeploymentsArgs) -> Result<Outcome, CliError> {
    let store = Store::open_existing(home, Default::default()).map_err(error)?;
    let list = match &store {
        Some(store) => store
            .deployments(args.environment.as_deref(), args.limit)
            .map_err(error)?,
        None => Vec::new(),
    };
    if args.format == Format::Json {
        print_json(&DeploymentsDocument::new(&list))?;
        return Ok(Outcome::Success);
    }
    let mut out = std::io::stdout().lock();
    if list.is_empty() {
        writeln!(out, "no deployments")?;
        return Ok(Outcome::Success);
    }
    writeln!(
        out,
        "{:<5} {:<14} {:<12} {:<22} {:<12} {:<6} CREATED",
        "ID", "ENVIRONMENT", "STATE", "REF", "COMMIT", "RUN"
    )?;
    for d in &list {
        let git_ref = d
            .git_ref
            .as_deref()
            .map(|r| {
                r.strip_prefix("refs/heads/")
                    .or_else(|| r.strip_prefix("refs/"))
                    .unwrap_or(r)
            })
            .unwrap_or("-");
        let mut line = format!(
            "{:<5} {:<14} {:<12} {:<22} {:<12} {:<6} {}",
            d.id,
            d.environment,
            d.state.as_str(),
            git_ref,
            d.commit.as_deref().map(short).unwrap_or("-"),
            d.run.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
            d.created_at
        );
        if let Some(target) = d.rollback_of {
            line.push_str(&format!("  rollback to {target}"));
        }
        if let Some(url) = &d.url {
            line.push_str(&format!("  {url}"));
        }
        if let Some(desc) = &d.description {
            line.push_str(&format!("  ({desc})"));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(Outcome::Success)
}

/// `gantry approve --run ID --environment NAME --as WHO --key KEY`.
#[allow(clippy::too_many_arguments)]
pub(super) fn approve_run(
    root: &Path,
    home: &Home,
    run: RunId,
    environment: &str,
    reviewer: &str,
    key: &Path,
    comment: Option<String>,
    reject: bool,
    format: Format,
) -> Result<Outcome, CliError> {
    let envs = match environments(root)? {
        Ok(envs) => envs,
        Err(refused) => return Ok(refused),
    };
    let key = super::key::load_private(root, key)?;
    let store = crate::backend::open_store(home.root())?;
    let ledger = Ledger::create_or_open(&home.ledger()).map_err(error)?;
    let report = approvals::approve_run(
        &envs,
        &store,
        &ledger,
        &RunApproval {
            run,
            environment,
            reviewer,
            key: &key,
            comment,
            decision: if reject {
                approvals::Decision::Rejected
            } else {
                approvals::Decision::Approved
            },
        },
    )
    .map_err(error)?;
    match format {
        Format::Json => print_json(&report)?,
        Format::Human => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{} {} run {} for environment {} with key {} (ledger entry {})",
                report.reviewer,
                report.decision.as_str(),
                report.run,
                report.environment,
                short(&report.key_id),
                report.ledger_entry
            )?;
        }
    }
    Ok(Outcome::Success)
}

//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run, harden, secure and ship software-delivery pipelines.
///
/// gantry reads GitHub Actions workflows exactly as GitHub does, offline.
#[derive(Debug, Parser)]
#[command(name = "gantry", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Run as if started in this directory.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check workflow and action files for errors.
    #[command(after_long_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Show which workflows and jobs an event would run.
    #[command(after_long_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Evaluate a GitHub Actions expression.
    #[command(after_long_help = EVAL_EXAMPLES)]
    Eval(EvalArgs),
    /// Run workflows on this machine, as GitHub would, without containers.
    #[command(after_long_help = RUN_EXAMPLES)]
    Run(crate::commands::RunArgs),
    /// List recorded runs, or show one with its jobs, steps and outputs.
    #[command(after_long_help = RUNS_EXAMPLES)]
    Runs(crate::commands::RunsArgs),
    /// Print the logs of a recorded run, job or step.
    #[command(after_long_help = LOGS_EXAMPLES)]
    Logs(crate::commands::LogsArgs),
    /// Recorded test results: failing and slowest tests, flaky tests, and
    /// test files split into balanced shards.
    #[command(after_long_help = TESTS_EXAMPLES)]
    Tests(crate::commands::TestsArgs),
    /// Marketplace actions (`uses: OWNER/REPO@REF`): add them to the local
    /// store, fetch what the workflows use, list them.
    #[command(after_long_help = ACTIONS_EXAMPLES)]
    Actions(crate::commands::ActionsArgs),
    /// Inspect and prune the caches kept under $GANTRY_HOME.
    #[command(after_long_help = CACHE_EXAMPLES)]
    Cache(crate::commands::CacheArgs),
    /// Find security weaknesses in workflows and actions, and fix them.
    #[command(after_long_help = AUDIT_EXAMPLES)]
    Audit(crate::commands::AuditArgs),
    /// Write an SBOM (CycloneDX or SPDX JSON) from the lockfiles.
    #[command(after_long_help = SBOM_EXAMPLES)]
    Sbom(crate::commands::SbomArgs),
    /// Find known vulnerabilities in the lockfiles, offline, with a gate.
    #[command(after_long_help = SCAN_EXAMPLES)]
    Scan(crate::commands::ScanArgs),
    /// Score the checkout on OSSF Scorecard's checks, offline, with what to change.
    #[command(after_long_help = POSTURE_EXAMPLES)]
    Posture(crate::commands::PostureArgs),
    /// Import OSV advisories into the offline database and show its state.
    #[command(after_long_help = DB_EXAMPLES)]
    Db(crate::commands::DbArgs),
    /// Generate and inspect signing keys for attestations.
    #[command(after_long_help = KEY_EXAMPLES)]
    Key(crate::commands::KeyArgs),
    /// Sign an in-toto statement about files (SBOM, provenance, scan, ...) into a DSSE envelope.
    #[command(after_long_help = ATTEST_EXAMPLES)]
    Attest(crate::commands::AttestArgs),
    /// Check an attestation's signatures, predicate type and subjects.
    #[command(after_long_help = VERIFY_EXAMPLES)]
    Verify(crate::commands::VerifyArgs),
    /// The tamper-evident evidence log: append, checkpoint, prove, verify, export.
    #[command(after_long_help = LEDGER_EXAMPLES)]
    Ledger(crate::commands::LedgerArgs),
    /// Show the service catalog: dependencies, states and the promotion order.
    #[command(after_long_help = SERVICES_EXAMPLES)]
    Services(crate::commands::ServicesArgs),
    /// Canary and blue-green rollouts through gantry's router, with analysis and automatic rollback.
    #[command(after_long_help = ROLLOUT_EXAMPLES)]
    Rollout(crate::commands::RolloutArgs),
    /// Make and show packages: services at a version, the unit a promotion moves.
    #[command(after_long_help = PACKAGE_EXAMPLES)]
    Package(crate::commands::PackageArgs),
    /// List the packages.
    Packages(crate::commands::PackagesArgs),
    /// Sign an approval of a package, or of a run's deployment to an
    /// environment, with your key and record it in the ledger.
    #[command(after_long_help = APPROVE_EXAMPLES)]
    Approve(crate::commands::ApproveArgs),
    /// List deployments to environments and their statuses.
    #[command(after_long_help = DEPLOYMENTS_EXAMPLES)]
    Deployments(crate::commands::DeploymentsArgs),
    /// Deploy an environment's previous successful deployment again.
    #[command(after_long_help = ROLLBACK_EXAMPLES)]
    Rollback(crate::commands::RollbackArgs),
    /// DORA's delivery metrics of an environment, classified against the 2024 clusters.
    #[command(after_long_help = DORA_EXAMPLES)]
    Dora(crate::commands::DoraArgs),
    /// Record incidents caused by deployments, and their resolution.
    #[command(after_long_help = INCIDENT_EXAMPLES)]
    Incident(crate::commands::IncidentArgs),
    /// Move a package's services, in dependency order, to the next
    /// compliance state, when every gate passes.
    #[command(after_long_help = PROMOTE_EXAMPLES)]
    Promote(crate::commands::PromoteArgs),
    /// The promotion history: every request, decision and approval.
    #[command(after_long_help = PROMOTIONS_EXAMPLES)]
    Promotions(crate::commands::PromotionsArgs),
    /// Send HTTP load at a rate or concurrency and check thresholds.
    #[command(after_long_help = LOAD_EXAMPLES)]
    Load(crate::commands::LoadArgs),
    /// The notification outbox: list what has not arrived, deliver what is due.
    #[command(after_long_help = NOTIFICATIONS_EXAMPLES)]
    Notifications(crate::commands::NotificationsArgs),
    /// Serve the JSON API, Prometheus metrics and the dashboard.
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(crate::commands::ServeArgs),
    /// Make, list and revoke the API tokens of `gantry serve`.
    #[command(after_long_help = TOKEN_EXAMPLES)]
    Token(crate::commands::TokenArgs),
    /// Write dashboards for other tools: `gantry dashboards grafana`.
    Dashboards(crate::commands::DashboardsArgs),
}

const DORA_EXAMPLES: &str = "\
Examples:
  gantry dora                                    production, the last 90 days
  gantry dora --environment staging --since 4w
  gantry dora --format json

Deployment frequency, change lead time (commit to successful deployment),
change fail rate (failed, rolled back or with an incident), failed
deployment recovery time and deployment rework rate, from the recorded
deployments and incidents. GET /v1/dora gives the same document.";

const INCIDENT_EXAMPLES: &str = "\
Examples:
  gantry incident open --deployment 42 --title \"checkout returns 500\"
  gantry incident resolve 7
  gantry incident list --environment production";

const SERVE_EXAMPLES: &str = "\
Examples:
  gantry serve                                   http://127.0.0.1:8420/
  gantry serve --approval-key alice=keys/alice.key
  gantry serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem

Every request but /healthz needs `Authorization: Bearer TOKEN` (or the
dashboard's cookie, set by signing in once). The API is described at
/openapi.json; metrics are at /metrics. SIGTERM stops it after the
requests in flight finish.";

const TOKEN_EXAMPLES: &str = "\
Examples:
  gantry token create --name alice --role approver --expires 30d
  gantry token list
  gantry token revoke alice

Roles: viewer reads; deployer also creates and promotes packages; approver
also approves (recorded under the token's name, signed with the key
`gantry serve --approval-key NAME=KEYFILE` gives); admin may do everything.";

const TESTS_EXAMPLES: &str = "\
Examples:
  gantry tests                      the newest run's test results
  gantry tests 12 --failed          only what failed in run 12, with messages
  gantry tests --slowest 10         and the ten slowest tests
  gantry tests --flaky --since 30d  tests that failed and passed on one commit
  gantry tests split --shards 4 --index 1 --glob 'tests/**/test_*.py'

Jobs record results with a `gantry/test-report` step (`with: path: GLOB`).
A test in .gantry/quarantine.yml (test, reason, expires) fails as a
warning until its entry expires. `gantry tests` exits 1 when a test that is
not quarantined failed.";
const NOTIFICATIONS_EXAMPLES: &str = "\
Examples:
  gantry notifications                 # pending and failed deliveries
  gantry notifications list --all --format json
  gantry notifications deliver         # send what is due now
  gantry notifications retry           # failed ones become pending again

Deployment, rollback and rollout events are written to the outbox under
$GANTRY_HOME before they are sent, and marked delivered only after the
receiver answers 2xx. deliver exits 1 when a delivery failed for good.";

const LOAD_EXAMPLES: &str = "\
Examples:
  gantry load http://127.0.0.1:8080/ --rate 200/s --duration 30s --threshold 'p99<500ms' --threshold 'error_rate<0.01'
  gantry load http://127.0.0.1:8080/api --concurrency 16 --duration 10s --format json

--rate is the open model: requests start on schedule whatever the server
does, and latency counts from when each was due. --concurrency is the
closed model. 5xx responses, refused connections, broken responses and
timeouts are errors. Exit 1 when a threshold fails, 2 for bad input.";

const PACKAGE_EXAMPLES: &str = "\
Examples:
  gantry package create --version 1.4.0 service-a service-b service-c
  gantry package create --version 1.4.0 service-a service-b@1.3.2 --artifact dist/a.tar.gz
  gantry package create --version 1.4.0 service-a --evidence sbom.intoto.json --format json
  gantry package show 3f2a9c1b                     by id or a unique prefix (8+ hex digits)
  gantry packages

A package's id is the SHA-256 of its canonical JSON (services, versions,
artifacts and the digests of its evidence envelopes): the same content
always gets the same id, and a package is never rewritten. Packages are
kept in $GANTRY_HOME/packages; services come from .gantry/services/*.yml.";

const APPROVE_EXAMPLES: &str = "\
Examples:
  gantry approve 3f2a9c1b --as alice --key alice.key
  gantry approve 3f2a9c1b --as bob --key bob.key --comment \"reviewed the SBOM diff\"

Approvers and their public keys are listed under `approvers:` in
.gantry/promotion.yml; the key must be the approver's. An approver counts
once, and with prevent_self_approval (the default) never for a package
they created.

  gantry approve --run 12 --environment production --as alice --key alice.key

approves the jobs of run 12 that wait for environment `production`'s
reviewers (listed with their public keys under `reviewers:` in
.gantry/environments.yml); with prevent_self_review (the default) not by
whoever started the run. With --reject, those jobs fail.";

const DEPLOYMENTS_EXAMPLES: &str = "\
Examples:
  gantry deployments
  gantry deployments --environment production --format json

States are GitHub's: queued, in_progress, success, failure, error, and
inactive once a later deployment to the same environment succeeds.";

const ROLLBACK_EXAMPLES: &str = "\
Examples:
  gantry rollback production
  gantry rollback production --to 7

Runs the deployment job of the chosen deployment again, alone, at the
same commit, ref and inputs, and records it as a new deployment.";

const PROMOTE_EXAMPLES: &str = "\
Examples:
  gantry promote 3f2a9c1b                          to the next state
  gantry promote 3f2a9c1b --to compliant
  gantry promote 3f2a9c1b --dry-run                every gate, nothing recorded
  gantry promote 3f2a9c1b --dry-run --at 2026-12-11T17:00:00+01:00
  gantry promote 3f2a9c1b --format json

Services move in dependency order, all at once or not at all. Every gate
of the target state (.gantry/promotion.yml; the default machine is
sandbox → compliance_ready → compliant) is evaluated for every service
over the ledger's evidence for that service and version. Each request
and its gate results are recorded in the ledger's evidence chain.
Exit status: 0 promoted (or nothing to do), 1 blocked or waiting, 2 bad input.";

const PROMOTIONS_EXAMPLES: &str = "\
Examples:
  gantry promotions                                every package's promotion history
  gantry promotions 3f2a9c1b                       one package: attempts, gates, approvals
  gantry promotions 3f2a9c1b --format json         every chain record";

const SERVICES_EXAMPLES: &str = "\
Examples:
  gantry services                          every service, its dependencies, versions per state
  gantry services --format json            the same as one JSON document (version 1)
  gantry services --format dot | dot -Tsvg > services.svg
  gantry services --format mermaid         the dependency graph as a Mermaid flowchart
  gantry -C path/to/repo services

One file per service in .gantry/services/*.yml:
  service:
    name: service-a
    spec:
      api_version: v1
      compliance_mode: compliant           # sandbox | compliant
      dependencies:
        runtime: [service-b]
        data: []
        security: [{ name: service-c, optional: true }]

The states come from .gantry/promotion.yml (without one: sandbox,
compliance_ready, compliant). Dependencies, optional ones included, are
promoted first; ties go by name. Every problem of the catalog is shown with
its file, line and column.

Exit status: 0 when the catalog is valid, 2 when it has a problem or a cycle.";

const RUNS_EXAMPLES: &str = "\
Examples:
  gantry runs                        the latest 20 runs, newest first
  gantry runs --limit 100 --format json
  gantry runs show 12                jobs, steps, exit codes, outputs, caches, artifacts
  gantry runs show 12 --format json

Runs are kept in $GANTRY_HOME/gantry.db. A run whose gantry process died is
shown as crashed.";

const LOGS_EXAMPLES: &str = "\
Examples:
  gantry logs 12                     every job and step of run 12, in order
  gantry logs 12 --job test          one job (its id, display name or row number)
  gantry logs 12 --job test --step 3 one step (its number, id or name)
  gantry logs 12 -s build | less

Logs are the masked output the run printed, kept under $GANTRY_HOME/logs.";

const CACHE_EXAMPLES: &str = "\
Examples:
  gantry cache list                          entries, most recently used first
  gantry cache list --key npm- --format json
  gantry cache prune --dry-run               what pruning to the limit (10 GiB) would remove
  gantry cache prune --max-size 5G           evict least recently used entries down to 5 GiB
  gantry cache prune --older-than 7d         remove entries unused for a week
  gantry cache prune --key npm-              remove every entry whose key starts with npm-

Pruning also removes expired artifacts and blobs nothing refers to.";

const KEY_EXAMPLES: &str = "\
Examples:
  gantry key generate                              gantry.key + gantry.pub (Ed25519)
  gantry key generate --algorithm ecdsa-p256 --out release
  GANTRY_KEY_PASSWORD=... gantry key generate      encrypt the private key (PKCS#8, scrypt)
  gantry key show release.pub                      algorithm and key id

The key id is the SHA-256 of the public key's DER (SubjectPublicKeyInfo), in hex.";

const ATTEST_EXAMPLES: &str = "\
Examples:
  gantry attest -t cyclonedx -p sbom.cdx.json -s dist/app -k gantry.key -o sbom.intoto.json
  gantry attest -t slsa-provenance -s dist/ -k gantry.key --workflow .github/workflows/release.yml
  gantry attest -t test-result -p junit.xml -s dist/app -k gantry.key
  gantry attest -t https://example.com/custom/v1 -p claim.json -s app.tar -k a.key -k b.key

Built-in predicate types: slsa-provenance, cyclonedx, spdx, vulns, audit
(`gantry audit --format json`), test-result (JSON or JUnit XML) and vsa; their
files are checked before signing. A folder subject gives one subject per file.
Keys encrypted with a passphrase read it from GANTRY_KEY_PASSWORD.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  gantry verify -k gantry.pub -a sbom.intoto.json -s dist/app -t cyclonedx
  gantry verify -k a.pub -k b.pub --threshold 2 -a release.intoto.json
  gantry verify -k gantry.pub -a build.intoto.json -s dist/ --vsa vsa.intoto.json --vsa-key verifier.key

Checks the signatures over the exact signed bytes (DSSE), the payload type,
the statement, the predicate type and shape, and that each --subject file
matches a subject digest. Every failed check says which and why.

Exit status: 0 when every check passes, 1 when one fails, 2 for bad usage.";

const LEDGER_EXAMPLES: &str = "\
Examples:
  gantry ledger append sbom.intoto.json --service service-a --service-version 1.2.0
  gantry ledger checkpoint > checkpoint.note       sign the current tree head
  gantry ledger prove --entry 0                    inclusion proof (--format json|tlog-proof)
  gantry ledger prove --from 1 --size 2            consistency proof
  gantry ledger verify --checkpoint checkpoint.note
  gantry ledger export --service service-a --out audit/service-a
  gantry ledger verify --export audit/service-a    check an export offline

The log lives in $GANTRY_HOME/ledger: RFC 9162 Merkle tree, checkpoints as
C2SP signed notes (Ed25519 log key in log.key, verifier key in log.pub).

Exit status: 0 ok, 1 when verification finds a change, 2 for bad usage.";

const SBOM_EXAMPLES: &str = "\
Examples:
  gantry sbom                                   CycloneDX 1.6 of every lockfile under .
  gantry sbom services/api --format spdx -o sbom.spdx.json
  gantry sbom Cargo.lock --spec-version 1.5     one lockfile, CycloneDX 1.5
  SOURCE_DATE_EPOCH=0 gantry sbom               reproducible timestamp

Reads Cargo.lock, package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml,
requirements*.txt, poetry.lock, Pipfile.lock, uv.lock, go.mod (+ go.sum),
Gemfile.lock, composer.lock, packages.lock.json, gradle.lockfile and pom.xml,
respecting .gitignore and skipping node_modules, target, .venv and vendor.
Entries that cannot be read are warnings with file and line.

Exit status: 0 when the SBOM was written, 2 for bad usage or unreadable input.";

const POSTURE_EXAMPLES: &str = "\
Examples:
  gantry posture                       this checkout: each check's score and the aggregate
  gantry posture ../other-repo         another checkout
  gantry posture --format json         score, checks (name, score or null, risk, reasons)
  gantry posture --format sarif        one result per point lost, for code scanning

Vulnerabilities reads the database `gantry db import` fills; Signed-Releases
and SBOM read gantry's attestations in the checkout and the ledger.
Posture informs: it exits 0 whatever the score (2 when PATH is not a folder).
";

const SCAN_EXAMPLES: &str = "\
Examples:
  gantry db import ~/Downloads/crates.io-all.zip  once: load OSV advisories
  gantry scan                                      every lockfile under .
  gantry scan --fail-on high                       fail on high or critical
  gantry scan --unknown-severity medium            rank advisories without a severity as medium
  gantry scan bom.cdx.json                         an SBOM instead of lockfiles
  gantry scan --format sarif -o scan.sarif         for code-scanning upload

Accept a finding in .gantry/ignore.yml (an expired entry fails the scan):
  ignore:
    - id: RUSTSEC-2020-0071
      reason: only used by the test harness
      expires: 2026-12-31

Exit status: 0 when nothing reaches the gate, 1 when a finding does (or an
ignore expired), 2 for bad usage, unreadable input or no database.";

const DB_EXAMPLES: &str = "\
Examples:
  gantry db import advisory-db/ osv/PyPI/          folders of OSV .json/.yaml records
  gantry db import ~/Downloads/Go-all.zip          osv.dev's per-ecosystem export
  gantry db import advisories.ndjson               one OSV record a line
  gantry db status                                 records per ecosystem, sources

The database lives in $GANTRY_HOME/vuln/osv.db. Importing again merges by id
(the newer `modified` wins); a failed import leaves the database unchanged.

Exit status: 0 on success, 2 for bad usage, unreadable input or no database.";

const ACTIONS_EXAMPLES: &str = "Examples:
  gantry actions add docker/setup-buildx-action@v3 --from ../setup-buildx-action
  gantry actions add actions/setup-node@v4 --from https://git.example.com/mirror/setup-node.git
  gantry actions add acme/lint@v1 --from vendor/lint       a plain folder, keyed by its content
  gantry actions fetch                                    everything the workflows use (network)
  gantry actions list --format json

Actions are kept in $GANTRY_HOME/actions, one tree per commit; a run takes
`uses: OWNER/REPO[/PATH]@REF` from there and never downloads anything.
Without --from, add and fetch clone from $GANTRY_ACTIONS_MIRROR (a folder or
URL holding OWNER/REPO.git) when it is set, else from https://github.com.";

const RUN_EXAMPLES: &str = "\
Examples:
  gantry run                                      every workflow a push to this branch runs
  gantry run ci.yml --event workflow_dispatch --input suite=unit
  gantry run --secret TOKEN=abc --secret-file .secrets --var REGION=eu
  gantry run --jobs 2 --include-uncommitted       test uncommitted changes, two jobs at a time
  gantry run --format json > events.ndjson        newline-delimited events for tools
  gantry run --attest --key gantry.key            sign SLSA provenance for the uploaded artifacts

Jobs run on this machine in their own workspaces (actions/checkout fills
them from the committed files). Built in: actions/checkout, actions/cache
(and cache/restore, cache/save), actions/upload-artifact and
download-artifact, actions/setup-python|node|go|java and
dtolnay/rust-toolchain (which use the installed toolchains), local composite
and JavaScript actions, and local reusable workflows. Other remote actions
fail their step unless --skip-unsupported is given.

Ctrl-C cancels the run (always() steps still run); a second Ctrl-C stops at
once. Runs are recorded under $GANTRY_HOME: see `gantry runs` and `gantry logs`.

Exit status: 0 when the run succeeds, 1 when it fails, 2 for invalid input.";

const AUDIT_EXAMPLES: &str = "\
Examples:
  gantry audit                                 every workflow and action of the repository
  gantry audit --fix --dry-run                 show the safe fixes as a diff
  gantry audit --fix                           apply them
  gantry audit --format sarif > audit.sarif    for code-scanning upload
  gantry audit --persona pedantic --min-severity medium
  gantry audit --explain template-injection    what a rule finds and why

Suppress a finding with a comment on its line or the line above:
  run: ./deploy.sh  # gantry: ignore[download-and-execute] vetted installer

Configure rules in .gantry/audit.yml (disable, severity, settings such as
unpinned-uses policies and missing-timeout default-minutes).

Exit status: 0 when nothing is at or above --min-severity, 1 when something
is, 2 for bad usage or files that do not parse.";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  gantry validate                          every workflow and action of the repository
  gantry validate .github/workflows/ci.yml one file
  gantry validate --format json            machine-readable diagnostics
  gantry validate --default-token-permissions write
                                           the repository's token may write by default

Beyond GitHub's own checks, contexts (matrix, steps, needs, jobs, inputs),
action inputs, runner labels and bash/sh run: scripts (with shellcheck, when
installed) are checked as actionlint does: warnings, but for a required
action input that is not given.
.gantry/config.yml may declare:
  default-token-permissions: read          (or write) decides call-permissions
  runner-labels: [gpu]                     labels of self-hosted runners

Exit status: 0 when every file is valid, 1 when any has an error, 2 for bad usage.";

const PLAN_EXAMPLES: &str = "\
Examples:
  gantry plan                                        what a push to the current branch runs
  gantry plan --event pull_request --ref main --changed src/lib.rs
  gantry plan ci.yml --event workflow_dispatch --input environment=staging
  gantry plan --event-file payload.json --event push --format json
  gantry plan --format mermaid > jobs.mmd            the job graph as a diagram

The plan assumes that every job succeeds: conditions that read other jobs'
results or outputs, and matrices computed by expressions, are shown as decided
at run time.";

const ROLLOUT_EXAMPLES: &str = "\
Examples:
  gantry rollout run web              # in one terminal: router + controller
  gantry rollout status web --format json
  gantry rollout promote web          # resume a pause
  gantry rollout abort web            # all traffic back to stable

The rollout is `.gantry/rollouts/NAME.yml`: `listen`, `stable`, `canary`,
`traffic`, `strategy` (canary steps or blueGreen) and `analysis`.";

const EVAL_EXAMPLES: &str = "\
Examples:
  gantry eval \"format('{0}-{1}', 'a', 1)\"
  gantry eval \"contains(github.event.pull_request.labels.*.name, 'ci')\" --context ctx.json
  gantry eval 'fromJSON(inputs.matrix).os' --context ctx.json

The context file is a JSON object whose keys are the named values
(`github`, `env`, `inputs`, `matrix`, ...). The result is printed as JSON.";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for people, with source snippets.
    #[default]
    Human,
    /// Stable JSON for tools.
    Json,
}

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PlanFormat {
    #[default]
    Human,
    Json,
    /// Graphviz DOT of the job graph.
    Dot,
    /// A Mermaid flowchart of the job graph.
    Mermaid,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Files or directories to check [default: the repository's workflows
    /// and actions].
    pub paths: Vec<PathBuf>,

    #[arg(long, value_enum, default_value_t, env = "GANTRY_FORMAT")]
    pub format: Format,

    /// What the repository's GITHUB_TOKEN may do by default (its
    /// "Workflow permissions" setting) [default: `default-token-permissions`
    /// in .gantry/config.yml; unknown makes `call-permissions` a warning].
    #[arg(long, value_enum, value_name = "ACCESS")]
    pub default_token_permissions: Option<TokenPermissions>,
}

/// The repository's default `GITHUB_TOKEN` access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenPermissions {
    /// Contents and packages read-only (GitHub's default for new repositories).
    Read,
    /// Read and write on every scope.
    Write,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Workflow files, or names under `.github/workflows/` [default: all].
    pub workflows: Vec<PathBuf>,

    /// The event: push, pull_request, workflow_dispatch, schedule, ...
    #[arg(long, short = 'e', default_value = "push")]
    pub event: String,

    /// The branch or tag (`main`, `refs/tags/v1.0`) [default: the current
    /// branch]. For pull requests, the base branch.
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,

    /// The event's activity type (`opened`, `closed`, ...).
    #[arg(long = "type", value_name = "TYPE")]
    pub activity: Option<String>,

    /// A file the event changed (repeatable); path filters use these.
    #[arg(long, value_name = "PATH")]
    pub changed: Vec<String>,

    /// A workflow input, `NAME=VALUE` (repeatable).
    #[arg(long = "input", short = 'i', value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,

    /// A webhook payload as JSON (`github.event`).
    #[arg(long, value_name = "FILE")]
    pub event_file: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The expression, with or without `${{ }}`.
    pub expression: String,

    /// A JSON file with the contexts: `{"github": {...}, "env": {...}}`.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub context: Option<PathBuf>,
}

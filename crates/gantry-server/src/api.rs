//! The JSON API: each handler checks the caller's role first, then makes
//! the same library call the CLI makes and returns its typed report.

use std::borrow::Cow;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{self, HeaderMap};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gantry_promote::approval::{self, ApprovalError, ApproveRequest};
use gantry_promote::package::{PackageRequest, PackageStore};
use gantry_promote::promote::{self, PromoteRequest, Stores, Workspace};
use gantry_promote::state::History;
use gantry_store::{Conclusion, RunId, RunQuery};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, Caller, Role};
use crate::problem::Problem;

/// The most runs one page holds.
pub(crate) const MAX_PAGE: usize = 500;
/// The largest log the API returns whole.
const MAX_LOG_BYTES: u64 = 16 << 20;
/// The name of the dashboard's session cookie.
pub(crate) const SESSION_COOKIE: &str = "gantry_session";

/// A JSON document, as the matching `gantry ... --format json` prints it.
pub(crate) struct Document;

impl PartialSchema for Document {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "the JSON document the matching `gantry ... --format json` command prints",
            ))
            .into()
    }
}

impl ToSchema for Document {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Document")
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gantry",
        description = "The gantry server: runs, tests, services, packages, promotions and the evidence ledger."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, NewPackage, PromoteBody, ApproveBody, NewIncident))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's router and its OpenAPI document, built from the same
/// annotations: a route cannot be served without being described.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(openapi_json))
        .routes(routes!(crate::metrics::metrics))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(job_log))
        .routes(routes!(step_log))
        .routes(routes!(run_tests))
        .routes(routes!(flaky_tests))
        .routes(routes!(services))
        .routes(routes!(list_packages, create_package))
        .routes(routes!(get_package))
        .routes(routes!(promote_package))
        .routes(routes!(approve_package))
        .routes(routes!(list_promotions))
        .routes(routes!(get_promotion))
        .routes(routes!(ledger_checkpoint))
        .routes(routes!(inclusion_proof))
        .routes(routes!(consistency_proof))
        .routes(routes!(ledger_entry))
        .routes(routes!(list_deployments))
        .routes(routes!(get_deployment))
        .routes(routes!(list_rollouts))
        .routes(routes!(rollout_status))
        .routes(routes!(rollout_promote))
        .routes(routes!(rollout_abort))
        .routes(routes!(dora_report))
        .routes(routes!(list_incidents, open_incident))
        .routes(routes!(resolve_incident))
        .merge(crate::dashboard::routes())
        .split_for_parts()
}

/// The bearer token of a request: the `Authorization` header, else the
/// dashboard's session cookie.
pub(crate) fn presented_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    for cookies in headers.get_all(header::COOKIE) {
        let Ok(cookies) = cookies.to_str() else {
            continue;
        };
        for cookie in cookies.split(';') {
            if let Some((name, value)) = cookie.trim().split_once('=')
                && name == SESSION_COOKIE
            {
                return Some(value.to_string());
            }
        }
    }
    None
}

/// The caller, if its token is live and its role is at least `needed`:
/// 401 without a live token, 403 for a lesser role. Called before any
/// lookup, so neither answer says whether the object asked for exists.
pub(crate) async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    needed: Role,
) -> Result<Caller, Problem> {
    let Some(token) = presented_token(headers) else {
        return Err(Problem::unauthorized());
    };
    let state = state.clone();
    let caller = blocking(move || {
        Ok(auth::authenticate(
            state.store(),
            &token,
            gantry_store::Timestamp::now(),
        )?)
    })
    .await?;
    match caller {
        None => Err(Problem::unauthorized()),
        Some(c) if c.role < needed => Err(Problem::forbidden(needed.as_str())),
        Some(c) => Ok(c),
    }
}

/// Runs blocking library work (SQLite, files) off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(format!("the request's work stopped: {e}")))?
}

fn query<T: DeserializeOwned>(raw: Option<String>) -> Result<T, Problem> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or_default())
        .map_err(|e| Problem::bad_request(format!("query: {e}")))
}

fn body<T: DeserializeOwned + Default>(bytes: &Bytes, required: bool) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        if required {
            return Err(Problem::bad_request("the request needs a JSON body"));
        }
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_request(format!("body: {e}")))
}

fn now() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now)
}

fn workspace(state: &AppState) -> Result<Workspace, Problem> {
    Workspace::load(&state.inner.root).map_err(|e| {
        Problem::internal(format!(
            "the server's repository {} has no valid promotion set-up: {e}",
            state.inner.root.display()
        ))
    })
}

fn recorded_state(state: &AppState) -> Result<History, Problem> {
    let dir = state.inner.home.ledger();
    if !dir.exists() {
        return Ok(History::default());
    }
    let ledger = gantry_ledger::Ledger::open(&dir)?;
    History::build(&ledger.snapshot()?).map_err(|e| Problem::internal(e.to_string()))
}

fn ledger(state: &AppState) -> Result<gantry_ledger::Ledger, Problem> {
    Ok(gantry_ledger::Ledger::create_or_open(
        &state.inner.home.ledger(),
    )?)
}

fn existing_ledger(state: &AppState) -> Result<gantry_ledger::Ledger, Problem> {
    let dir = state.inner.home.ledger();
    if !dir.exists() {
        return Err(Problem::not_found("the ledger has no entries yet"));
    }
    Ok(gantry_ledger::Ledger::open(&dir)?)
}

fn json_value(v: &impl serde::Serialize) -> Result<Json<Value>, Problem> {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| Problem::internal(e.to_string()))
}

fn run_id(s: &str) -> Result<RunId, Problem> {
    s.parse::<u64>()
        .map(RunId)
        .map_err(|_| Problem::bad_request(format!("`{s}` is not a run id (a number)")))
}

/// The server answers.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "the server is up", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "server",
    responses((status = 200, description = "the OpenAPI 3.1 document of this API", body = Document)))]
async fn openapi_json() -> Response {
    let (_, doc) = router();
    match doc.to_json() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => Problem::internal(e.to_string()).into_response(),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunsParams {
    /// At most this many runs (default 50, at most 500).
    limit: Option<usize>,
    /// Only runs older than this id: the `next_before` of the page before.
    before: Option<u64>,
    /// The workflow's name or file path.
    workflow: Option<String>,
    /// success, failure, cancelled, skipped or crashed.
    conclusion: Option<String>,
    /// The event (push, pull_request, ...).
    event: Option<String>,
    /// The git ref.
    #[serde(rename = "ref")]
    #[param(rename = "ref")]
    git_ref: Option<String>,
}

/// Recorded runs, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/runs", tag = "runs", params(RunsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{version, runs, next_before}`; `runs` as in `gantry runs --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_runs(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let params: RunsParams = query(raw)?;
    let limit = params.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}, not {limit}"
        )));
    }
    let conclusion = match &params.conclusion {
        None => None,
        Some(c) => Some(Conclusion::parse(c).ok_or_else(|| {
            Problem::bad_request(format!(
                "unknown conclusion `{c}`: success, failure, cancelled, skipped or crashed"
            ))
        })?),
    };
    let q = RunQuery {
        limit,
        before: params.before.map(RunId),
        workflow: params.workflow,
        conclusion,
        event: params.event,
        git_ref: params.git_ref,
    };
    blocking(move || {
        let runs = state.store().runs_page(&q)?;
        let next_before = (runs.len() == limit)
            .then(|| runs.last().map(|r| r.id.0))
            .flatten();
        Ok(Json(json!({
            "version": gantry_store::DOCUMENT_VERSION,
            "runs": runs,
            "next_before": next_before,
        })))
    })
    .await
}

/// One run with its jobs, steps, caches and artifacts.
#[utoipa::path(get, path = "/v1/runs/{id}", tag = "runs",
    params(("id" = u64, Path, description = "the run id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry runs show ID --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let id = run_id(&id)?;
    blocking(move || match state.store().run(id)? {
        Some(run) => json_value(&run.document()),
        None => Err(Problem::not_found(format!("no run {id}"))),
    })
    .await
}

fn read_log(state: &AppState, path: &std::path::Path) -> Result<Response, Problem> {
    use std::io::Read as _;
    let Some(file) = state.store().open_log(path)? else {
        return Ok(text(String::new()));
    };
    let mut bytes = Vec::new();
    file.take(MAX_LOG_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| Problem::internal(format!("failed to read {}: {e}", path.display())))?;
    Ok(text(String::from_utf8_lossy(&bytes).into_owned()))
}

fn text(s: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        s,
    )
        .into_response()
}

fn job_of(state: &AppState, run: RunId, job: &str) -> Result<gantry_store::JobRecord, Problem> {
    let Some(detail) = state.store().run(run)? else {
        return Err(Problem::not_found(format!("no run {run}")));
    };
    detail
        .jobs
        .into_iter()
        .find(|j| j.id.to_string() == job || j.job_id == job)
        .ok_or_else(|| Problem::not_found(format!("run {run} has no job `{job}`")))
}

/// A job's log (its set-up and tear-down).
#[utoipa::path(get, path = "/v1/runs/{id}/jobs/{job}/log", tag = "runs",
    params(("id" = u64, Path, description = "the run id"),
           ("job" = String, Path, description = "the job's row id or its key in `jobs:`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the log text", body = String, content_type = "text/plain"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn job_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, job)): Path<(String, String)>,
) -> Result<Response, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let id = run_id(&id)?;
    blocking(move || {
        let job = job_of(&state, id, &job)?;
        read_log(&state, &job.log_path)
    })
    .await
}

/// A step's log.
#[utoipa::path(get, path = "/v1/runs/{id}/jobs/{job}/steps/{step}/log", tag = "runs",
    params(("id" = u64, Path, description = "the run id"),
           ("job" = String, Path, description = "the job's row id or its key in `jobs:`"),
           ("step" = u32, Path, description = "the step's position in the job")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the log text", body = String, content_type = "text/plain"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn step_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, job, step)): Path<(String, String, String)>,
) -> Result<Response, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let id = run_id(&id)?;
    blocking(move || {
        let job = job_of(&state, id, &job)?;
        let step = job
            .steps
            .iter()
            .find(|s| s.index.to_string() == step || s.step_id.as_deref() == Some(step.as_str()))
            .ok_or_else(|| {
                Problem::not_found(format!("job `{}` has no step `{step}`", job.job_id))
            })?;
        read_log(&state, &step.log_path)
    })
    .await
}

fn quarantine(state: &AppState) -> Result<gantry_tests::Quarantine, Problem> {
    gantry_tests::load_quarantine(&state.inner.root).map_err(|e| Problem::internal(e.to_string()))
}

/// A run's test results: counts, failing and slowest tests, reports.
#[utoipa::path(get, path = "/v1/runs/{id}/tests", tag = "tests",
    params(("id" = u64, Path, description = "the run id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry tests --run ID --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn run_tests(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let id = run_id(&id)?;
    blocking(move || {
        if state.store().run(id)?.is_none() {
            return Err(Problem::not_found(format!("no run {id}")));
        }
        let q = quarantine(&state)?;
        json_value(&state.store().tests_report(Some(id), 10, &q)?)
    })
    .await
}

/// Tests that failed and passed on one commit.
#[utoipa::path(get, path = "/v1/tests/flaky", tag = "tests",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry tests flaky --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn flaky_tests(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || {
        let q = quarantine(&state)?;
        json_value(&state.store().flaky_report(None, &q)?)
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeploymentsParams {
    /// Only this environment's.
    environment: Option<String>,
    /// At most this many (default 50, at most 500).
    limit: Option<usize>,
}

/// Deployments, newest first, with their statuses.
#[utoipa::path(get, path = "/v1/deployments", tag = "deployments", params(DeploymentsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry deployments --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_deployments(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let params: DeploymentsParams = query(raw)?;
    let limit = params.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}, not {limit}"
        )));
    }
    blocking(move || {
        let deployments = state
            .store()
            .deployments(params.environment.as_deref(), limit)?;
        json_value(&gantry_store::DeploymentsDocument::new(&deployments))
    })
    .await
}

/// One deployment with its statuses.
#[utoipa::path(get, path = "/v1/deployments/{id}", tag = "deployments",
    params(("id" = u64, Path, description = "the deployment's number")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the deployment, as in `gantry deployments --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_deployment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let number: u64 = id
        .trim_start_matches('#')
        .parse()
        .map_err(|_| Problem::bad_request(format!("`{id}` is not a deployment number")))?;
    blocking(move || {
        match state
            .store()
            .deployment(gantry_store::DeploymentId(number))?
        {
            Some(d) => json_value(&d),
            None => Err(Problem::not_found(format!("no deployment {number}"))),
        }
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DoraParams {
    /// The environment whose deployments count (default production).
    environment: Option<String>,
    /// The window, ending now: a whole number and m, h, d or w (default 90d).
    since: Option<String>,
}

pub(crate) fn dora_problem(e: gantry_deliver::dora::DoraError) -> Problem {
    match e {
        gantry_deliver::dora::DoraError::Store(e) => e.into(),
        other => Problem::bad_request(other.to_string()),
    }
}

/// DORA's delivery metrics of an environment, as `gantry dora --format json`.
#[utoipa::path(get, path = "/v1/dora", tag = "deployments", params(DoraParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry dora --format json`", body = Document),
        (status = 400, description = "a malformed, empty or too long `since`", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn dora_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let params: DoraParams = query(raw)?;
    let q = gantry_deliver::dora::DoraQuery::parse(
        params.environment.as_deref(),
        params.since.as_deref(),
    )
    .map_err(dora_problem)?;
    blocking(move || {
        let report =
            gantry_deliver::dora::report(state.store(), &q, gantry_store::Timestamp::now())
                .map_err(dora_problem)?;
        json_value(&report)
    })
    .await
}

/// Where the store's incident errors go: an unknown deployment or incident
/// is a 404, a bad title or a second resolution a 409 or 422.
fn incident_problem(e: gantry_store::StoreError) -> Problem {
    use gantry_store::StoreError as E;
    match e {
        E::NotFound { .. } => Problem::not_found(e.to_string()),
        E::IncidentResolved { .. } => Problem::conflict(e.to_string()),
        E::IncidentTitle { .. } => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
        }
        other => other.into(),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct IncidentsParams {
    /// Only incidents of this environment's deployments.
    environment: Option<String>,
    /// At most this many (default 50, at most 500).
    limit: Option<usize>,
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/v1/incidents", tag = "deployments", params(IncidentsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry incident list --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_incidents(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let params: IncidentsParams = query(raw)?;
    let limit = params.limit.unwrap_or(50);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Problem::bad_request(format!(
            "limit must be 1 to {MAX_PAGE}, not {limit}"
        )));
    }
    blocking(move || {
        let list = state
            .store()
            .incidents(params.environment.as_deref(), limit)?;
        json_value(&gantry_store::IncidentsDocument::new(&list))
    })
    .await
}

/// The body of `POST /v1/incidents`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewIncident {
    /// The deployment that caused it.
    deployment: u64,
    /// What happened (default "incident").
    title: Option<String>,
}

/// Records an incident caused by a deployment, as `gantry incident open`.
#[utoipa::path(post, path = "/v1/incidents", tag = "deployments", request_body = NewIncident,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "as `gantry incident open --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such deployment", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "an empty or too long title", body = Problem, content_type = "application/problem+json")))]
async fn open_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), Problem> {
    authorize(&state, &headers, Role::Deployer).await?;
    let new: NewIncident = body(&bytes, true)?;
    blocking(move || {
        let made = state
            .store()
            .open_incident(
                gantry_store::DeploymentId(new.deployment),
                new.title.as_deref().unwrap_or("incident"),
            )
            .map_err(incident_problem)?;
        state.changed();
        json_value(&gantry_store::IncidentsDocument::new(&[made])).map(|j| (StatusCode::CREATED, j))
    })
    .await
}

/// Marks an incident resolved now, as `gantry incident resolve`.
#[utoipa::path(post, path = "/v1/incidents/{id}/resolve", tag = "deployments",
    params(("id" = u64, Path, description = "the incident's number")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry incident resolve --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "it is resolved already", body = Problem, content_type = "application/problem+json")))]
async fn resolve_incident(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Deployer).await?;
    let id: gantry_store::IncidentId = id
        .parse()
        .map_err(|_| Problem::bad_request(format!("`{id}` is not an incident number")))?;
    blocking(move || {
        let done = state
            .store()
            .resolve_incident(id)
            .map_err(incident_problem)?;
        state.changed();
        json_value(&gantry_store::IncidentsDocument::new(&[done]))
    })
    .await
}

fn rollout_problem(e: gantry_deliver::rollout::run::RolloutError) -> Problem {
    match e {
        gantry_deliver::rollout::run::RolloutError::Store(
            gantry_store::StoreError::NoRollout { .. },
        ) => Problem::not_found(e.to_string()),
        gantry_deliver::rollout::run::RolloutError::Store(
            gantry_store::StoreError::RolloutNotRunning { .. },
        ) => Problem::conflict(e.to_string()),
        other => Problem::internal(other.to_string()),
    }
}

/// Every rollout that ran here, by name, with its canary weight, step and
/// last analysis: what the dashboard's rollouts page shows.
#[utoipa::path(get, path = "/v1/rollouts", tag = "rollouts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{version, rollouts: [{name, phase, running, canary_weight, step, steps, message, last_verdict, last_success_rate, last_p99_ms, updated_at}]}`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_rollouts(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || {
        let doc = gantry_deliver::rollout::run::rollouts_document(state.store())
            .map_err(rollout_problem)?;
        json_value(&doc)
    })
    .await
}

/// Where a rollout stands, as `gantry rollout status NAME --format json`.
#[utoipa::path(get, path = "/v1/rollouts/{name}", tag = "rollouts",
    params(("name" = String, Path, description = "the rollout's name (.gantry/rollouts/NAME.yml)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{running, pid, updated_at, status, phase}`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn rollout_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || {
        let report = gantry_deliver::rollout::run::rollout_status(state.store(), &name)
            .map_err(rollout_problem)?;
        json_value(&report)
    })
    .await
}

/// What `POST /v1/rollouts/{name}/promote|abort` answers.
#[derive(Debug, serde::Serialize)]
struct Steered {
    rollout: String,
    sent: &'static str,
}

/// Leaves `command` for the process running rollout `name`, for a deployer.
async fn steer(
    state: AppState,
    headers: &HeaderMap,
    name: String,
    command: gantry_deliver::rollout::controller::Command,
) -> Result<Json<Value>, Problem> {
    authorize(&state, headers, Role::Deployer).await?;
    blocking(move || {
        gantry_deliver::rollout::run::send_command(state.store(), &name, command)
            .map_err(rollout_problem)?;
        state.changed();
        json_value(&Steered {
            rollout: name,
            sent: command.name(),
        })
    })
    .await
}

/// Resumes a paused rollout (or an inconclusive analysis), as `gantry rollout promote`.
#[utoipa::path(post, path = "/v1/rollouts/{name}/promote", tag = "rollouts",
    params(("name" = String, Path, description = "the rollout's name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{rollout, sent}`: the running controller takes it at its next tick", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the rollout is not running", body = Problem, content_type = "application/problem+json")))]
async fn rollout_promote(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    steer(
        state,
        &headers,
        name,
        gantry_deliver::rollout::controller::Command::Promote,
    )
    .await
}

/// Sends all traffic back to stable and ends the rollout, as `gantry rollout abort`.
#[utoipa::path(post, path = "/v1/rollouts/{name}/abort", tag = "rollouts",
    params(("name" = String, Path, description = "the rollout's name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{rollout, sent}`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the rollout is not running", body = Problem, content_type = "application/problem+json")))]
async fn rollout_abort(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
    steer(
        state,
        &headers,
        name,
        gantry_deliver::rollout::controller::Command::Abort,
    )
    .await
}

pub(crate) fn services_report(
    state: &AppState,
) -> Result<gantry_promote::services::ServicesReport, Problem> {
    let history = recorded_state(state)?;
    gantry_promote::services::report(&state.inner.root, &|name| history.versions_by_state(name))
        .map_err(|e| Problem::internal(e.to_string()))
}

/// The service catalog: dependencies, each service's version per state,
/// the promotion order.
#[utoipa::path(get, path = "/v1/services", tag = "services",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry services --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn services(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || json_value(&services_report(&state)?)).await
}

/// The packages.
#[utoipa::path(get, path = "/v1/packages", tag = "packages",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry packages --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_packages(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || json_value(&PackageStore::new(state.inner.home.packages()).list()?)).await
}

/// A new package: services at a version (the seed's `PackageRequest`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPackage {
    /// Service names; `NAME@VERSION` gives one its own version.
    services: Vec<String>,
    version: String,
}

/// Makes a package; the same content always gets the same id.
#[utoipa::path(post, path = "/v1/packages", tag = "packages",
    request_body = NewPackage,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "created: `{id, created, package}` as `gantry package create --format json`", body = Document),
        (status = 200, description = "a package of this content existed", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_package(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Deployer).await?;
    let new: NewPackage = body(&bytes, true)?;
    blocking(move || {
        let workspace = workspace(&state)?;
        let known: Vec<String> = workspace.catalog.names().map(str::to_string).collect();
        let request = PackageRequest {
            services: new.services,
            version: new.version,
            evidence: Vec::new(),
            artifacts: Vec::new(),
            created_by: caller.name,
            time: now().to_string(),
        };
        let report = PackageStore::new(state.inner.home.packages()).create(&request, &known)?;
        let status = if report.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let mut doc =
            serde_json::to_value(&report).map_err(|e| Problem::internal(e.to_string()))?;
        if let Value::Object(map) = &mut doc {
            map.insert("id".into(), json!(report.package.id));
        }
        let location = format!("/v1/packages/{}", report.package.id);
        state.changed();
        let mut response = (status, Json(doc)).into_response();
        if let Ok(v) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Ok(response)
    })
    .await
}

/// One package.
#[utoipa::path(get, path = "/v1/packages/{id}", tag = "packages",
    params(("id" = String, Path, description = "the package id, or at least 8 hex digits of it")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry package show ID --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_package(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || json_value(&PackageStore::new(state.inner.home.packages()).get(&id)?)).await
}

/// How to promote (every field optional; an empty body is the default).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PromoteBody {
    /// The target state [default: the next state of the package's least
    /// advanced service].
    to: Option<String>,
    /// Evaluate every gate and say what would happen; record nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Decides and records the promotion of a package, as `gantry promote`.
#[utoipa::path(post, path = "/v1/packages/{id}/promote", tag = "packages",
    params(("id" = String, Path, description = "the package id, or at least 8 hex digits of it")),
    request_body(content = Option<PromoteBody>, description = "optional"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the decision, the same object as `gantry promote --format json` (decision promoted, blocked or pending)", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a promotion or approval of one of its services is in progress", body = Problem, content_type = "application/problem+json")))]
async fn promote_package(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, Problem> {
    let caller = authorize(&state, &headers, Role::Deployer).await?;
    let b: PromoteBody = body(&bytes, false)?;
    blocking(move || {
        let workspace = workspace(&state)?;
        let packages = PackageStore::new(state.inner.home.packages());
        let ledger = ledger(&state)?;
        let locks = state.inner.home.locks();
        let request = PromoteRequest {
            package: id,
            to: b.to,
            dry_run: b.dry_run,
            requested_by: caller.name,
            now: now(),
        };
        let stores = Stores {
            ledger: &ledger,
            packages: &packages,
            locks: &locks,
        };
        let report = promote::try_promote(&workspace, stores, &request)?;
        state.inner.metrics.promotion(report.decision);
        if !report.recorded.is_empty() {
            state.changed();
        }
        json_value(&report)
    })
    .await
}

/// An approval (optional body).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    /// Why, for the record.
    comment: Option<String>,
}

fn approval_problem(e: ApprovalError) -> Problem {
    match e {
        ApprovalError::UnknownApprover { .. }
        | ApprovalError::NoApprovers { .. }
        | ApprovalError::WrongKey { .. }
        | ApprovalError::SelfApproval { .. } => {
            Problem::new(StatusCode::FORBIDDEN, "approval-refused", e.to_string())
        }
        ApprovalError::AlreadyApproved { .. } => Problem::conflict(e.to_string()),
        other => Problem::internal(other.to_string()),
    }
}

/// Signs an approval of the package under the token's name, with the
/// server's key for that approver (`gantry serve --approval-key NAME=KEY`),
/// and records it in the ledger, as `gantry approve`.
#[utoipa::path(post, path = "/v1/packages/{id}/approvals", tag = "packages",
    params(("id" = String, Path, description = "the package id, or at least 8 hex digits of it")),
    request_body(content = Option<ApproveBody>, description = "optional"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "as `gantry approve --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an approver's token, no key configured for it, or the approval rules refuse it", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn approve_package(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let caller = authorize(&state, &headers, Role::Approver).await?;
    let b: ApproveBody = body(&bytes, false)?;
    blocking(move || {
        let Some((_, key)) = state
            .inner
            .approval_keys
            .iter()
            .find(|(name, _)| *name == caller.name)
        else {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "no-approval-key",
                format!(
                    "this server holds no approval key for `{}`: start it with `--approval-key {}=KEYFILE`",
                    caller.name, caller.name
                ),
            ));
        };
        let workspace = workspace(&state)?;
        let package = PackageStore::new(state.inner.home.packages()).get(&id)?;
        let request = ApproveRequest {
            package: &package,
            approver: &caller.name,
            key,
            comment: b.comment,
            time: now().to_string(),
        };
        let report = approval::approve(
            &ledger(&state)?,
            &state.inner.home.locks(),
            workspace.approver_rules(),
            &request,
        )
        .map_err(approval_problem)?;
        state.changed();
        Ok((StatusCode::CREATED, json_value(&report)?).into_response())
    })
    .await
}

/// Every promotion, with its attempts and approvals.
#[utoipa::path(get, path = "/v1/promotions", tag = "promotions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry promotions --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_promotions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || json_value(&gantry_promote::history::list(&recorded_state(&state)?))).await
}

/// One promotion's whole chain.
#[utoipa::path(get, path = "/v1/promotions/{id}", tag = "promotions",
    params(("id" = String, Path, description = "the promotion (package) id or a prefix")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry promotions ID --format json`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_promotion(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(move || {
        let history = recorded_state(&state)?;
        match gantry_promote::history::show(&history, &id) {
            Ok(detail) => json_value(&detail),
            Err(e @ gantry_promote::history::HistoryError::NotFound(_)) => {
                Err(Problem::not_found(e.to_string()))
            }
            Err(e) => Err(Problem::bad_request(e.to_string())),
        }
    })
    .await
}

/// The latest signed checkpoint of the ledger (a signed note).
#[utoipa::path(get, path = "/v1/ledger/checkpoint", tag = "ledger",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{note}`: the latest checkpoint as `gantry ledger checkpoint` signed it", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "no checkpoint yet", body = Problem, content_type = "application/problem+json")))]
async fn ledger_checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    blocking(
        move || match existing_ledger(&state)?.latest_checkpoint()? {
            Some(note) => Ok(Json(json!({ "version": 1, "note": note }))),
            None => Err(Problem::not_found(
                "no checkpoint yet: `gantry ledger checkpoint` signs one",
            )),
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionParams {
    /// The entry.
    index: u64,
    /// The tree size [default: the whole log].
    size: Option<u64>,
}

/// Proves an entry is in the log.
#[utoipa::path(get, path = "/v1/ledger/proofs/inclusion", tag = "ledger",
    params(InclusionParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry ledger prove --entry N --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn inclusion_proof(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let p: InclusionParams = query(raw)?;
    blocking(move || {
        let ledger = existing_ledger(&state)?;
        json_value(&gantry_ledger::report::prove_inclusion(
            &ledger, p.index, p.size,
        )?)
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyParams {
    /// The older tree size.
    old: u64,
    /// The newer tree size [default: the whole log].
    new: Option<u64>,
}

/// Proves the log at `old` entries is a prefix of the log at `new`.
#[utoipa::path(get, path = "/v1/ledger/proofs/consistency", tag = "ledger",
    params(ConsistencyParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "as `gantry ledger prove --from OLD --format json`", body = Document),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn consistency_proof(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let p: ConsistencyParams = query(raw)?;
    blocking(move || {
        let ledger = existing_ledger(&state)?;
        json_value(&gantry_ledger::report::prove_consistency(
            &ledger, p.old, p.new,
        )?)
    })
    .await
}

/// One ledger entry: its record and leaf hash.
#[utoipa::path(get, path = "/v1/ledger/entries/{index}", tag = "ledger",
    params(("index" = u64, Path, description = "the entry's index")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{index, leaf_hash, record}`", body = Document),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn ledger_entry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(index): Path<String>,
) -> Result<Json<Value>, Problem> {
    authorize(&state, &headers, Role::Viewer).await?;
    let index: u64 = index
        .parse()
        .map_err(|_| Problem::bad_request(format!("`{index}` is not an entry index")))?;
    blocking(move || {
        let ledger = existing_ledger(&state)?;
        let (bytes, leaf) = ledger.snapshot()?.entry(index)?;
        let record: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Problem::internal(format!("entry {index} is not JSON: {e}")))?;
        Ok(Json(json!({
            "version": 1,
            "index": index,
            "leaf_hash": gantry_ledger::hash::to_hex(&leaf),
            "record": record,
        })))
    })
    .await
}

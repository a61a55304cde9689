//! The dashboard: server-rendered HTML pages over the same reports the
//! API returns, with one small script of our own (`/assets/live.js`) that
//! refreshes the page's `<main>` when the server says something changed
//! (server-sent events on `/events`, polling as a fallback). No build
//! step, no CDN.
//!
//! Sign-in: a token once, by the sign-in form or `?token=` on the first
//! request; the server answers with an HttpOnly, SameSite=Strict cookie
//! and a redirect to the same page without the query, so the token is
//! never in a URL after that.
//!
//! A page is a function from the state to its `<main>`: adding one is a
//! route, a nav entry and that function.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use gantry_store::{DeploymentState, RunId, RunQuery};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{SESSION_COOKIE, authorize, blocking, presented_token, services_report};
use crate::auth::{self, Role};
use crate::problem::Problem;

const LIVE_JS: &str = include_str!("../assets/live.js");
const STYLE: &str = include_str!("../assets/style.css");

/// The pages, for the navigation: (path, title).
const PAGES: &[(&str, &str)] = &[
    ("/", "Runs"),
    ("/compliance", "Compliance"),
    ("/promotions", "Promotions"),
    ("/services/graph", "Dependencies"),
    ("/tests/flaky", "Flaky tests"),
    ("/deployments", "Deployments"),
    ("/rollouts", "Rollouts"),
    ("/dora", "DORA"),
];

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(runs_page))
        .routes(routes!(run_page))
        .routes(routes!(compliance_page))
        .routes(routes!(promotions_page))
        .routes(routes!(graph_page))
        .routes(routes!(flaky_page))
        .routes(routes!(deployments_page))
        .routes(routes!(rollouts_page))
        .routes(routes!(dora_page))
        .routes(routes!(signin_form, signin))
        .routes(routes!(events))
        .routes(routes!(live_js))
        .routes(routes!(style_css))
}

/// HTML-escapes text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, current: &str, main: &str) -> String {
    let mut nav = String::new();
    for (path, name) in PAGES {
        let here = if *path == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<li><a href=\"{path}\"{here}>{}</a></li>", esc(name));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · gantry</title><link rel=\"stylesheet\" href=\"/assets/style.css\">\
         <script src=\"/assets/live.js\" defer></script></head>\
         <body><header><a class=\"brand\" href=\"/\">gantry</a><nav aria-label=\"Pages\"><ul>{nav}</ul></nav></header>\
         <main id=\"main\" aria-live=\"polite\">{main}</main></body></html>\n",
        esc(title)
    )
}

fn html(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn session_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.inner.tls { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}")
}

#[derive(Deserialize, Default)]
struct TokenQuery {
    token: Option<String>,
}

/// The page's caller, or the response that replaces the page: the
/// cookie set and a redirect for `?token=`, the sign-in page without a
/// live token, a 403 page for a lesser role.
async fn page_caller(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    raw: Option<String>,
) -> Result<(), Response> {
    let q: TokenQuery =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    if let Some(token) = q.token {
        let st = state.clone();
        let t = token.clone();
        let live = blocking(move || {
            Ok(auth::authenticate(
                st.store(),
                &t,
                gantry_store::Timestamp::now(),
            )?)
        })
        .await
        .map_err(IntoResponse::into_response)?;
        if live.is_none() {
            return Err(signin_page(
                StatusCode::UNAUTHORIZED,
                "That token is not valid.",
            ));
        }
        let mut response = Redirect::to(uri.path()).into_response();
        if let Ok(v) = HeaderValue::from_str(&session_cookie(state, &token)) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
        return Err(response);
    }
    if presented_token(headers).is_none() {
        return Err(Redirect::to("/signin").into_response());
    }
    match authorize(state, headers, Role::Viewer).await {
        Ok(_) => Ok(()),
        Err(p) if p.status == 401 => Err(signin_page(
            StatusCode::UNAUTHORIZED,
            "Your session's token is no longer valid.",
        )),
        Err(p) => Err(p.into_response()),
    }
}

fn signin_page(status: StatusCode, message: &str) -> Response {
    let note = if message.is_empty() {
        String::new()
    } else {
        format!("<p role=\"alert\">{}</p>", esc(message))
    };
    let main = format!(
        "<h1>Sign in</h1>{note}<form method=\"post\" action=\"/signin\">\
         <label for=\"token\">API token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>\
         <button type=\"submit\">Sign in</button></form>\
         <p>Make a token with <code>gantry token create --name NAME --role viewer</code>.</p>"
    );
    let mut r = html(layout("Sign in", "/signin", &main));
    *r.status_mut() = status;
    r
}

/// The sign-in form.
#[utoipa::path(get, path = "/signin", tag = "dashboard",
    responses((status = 200, description = "the sign-in page", body = String, content_type = "text/html")))]
async fn signin_form() -> Response {
    signin_page(StatusCode::OK, "")
}

/// Signs in with a token (form field `token`): sets the session cookie.
#[utoipa::path(post, path = "/signin", tag = "dashboard",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "token=TOKEN"),
    responses(
        (status = 303, description = "signed in: the cookie is set, on to the dashboard"),
        (status = 401, description = "not a valid token", body = String, content_type = "text/html")))]
async fn signin(State(state): State<AppState>, body: Bytes) -> Response {
    let q: TokenQuery = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let Some(token) = q.token.filter(|t| !t.is_empty()) else {
        return signin_page(StatusCode::UNAUTHORIZED, "Give a token.");
    };
    let st = state.clone();
    let t = token.clone();
    let live = blocking(move || {
        Ok(auth::authenticate(
            st.store(),
            &t,
            gantry_store::Timestamp::now(),
        )?)
    })
    .await;
    match live {
        Ok(Some(_)) => {
            let mut response = Redirect::to("/").into_response();
            // 303 after a POST.
            *response.status_mut() = StatusCode::SEE_OTHER;
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&state, &token)) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Ok(None) => signin_page(StatusCode::UNAUTHORIZED, "That token is not valid."),
        Err(p) => p.into_response(),
    }
}

async fn page(
    state: AppState,
    headers: HeaderMap,
    uri: Uri,
    raw: Option<String>,
    title: &'static str,
    current: &'static str,
    render: impl FnOnce(&AppState) -> Result<String, Problem> + Send + 'static,
) -> Response {
    if let Err(r) = page_caller(&state, &headers, &uri, raw).await {
        return r;
    }
    match blocking(move || render(&state)).await {
        Ok(main) => html(layout(title, current, &main)),
        Err(p) => problem_page(current, &p),
    }
}

/// A problem as a page of the dashboard, with its status: what a browser
/// shows instead of the JSON an API client gets.
fn problem_page(current: &'static str, p: &Problem) -> Response {
    let main = format!(
        "<h1>{} {}</h1><p role=\"alert\">{}</p><p><a href=\"{current}\">Back</a></p>",
        p.status,
        esc(&p.title),
        esc(&p.detail)
    );
    let mut r = html(layout(&p.title, current, &main));
    *r.status_mut() = p.status();
    r
}

fn conclusion_badge(c: Option<gantry_store::Conclusion>) -> String {
    let name = c.map_or("running", |c| c.as_str());
    format!("<span class=\"badge {name}\">{name}</span>")
}

fn duration(start: gantry_store::Timestamp, end: Option<gantry_store::Timestamp>) -> String {
    match end {
        None => "—".to_string(),
        Some(end) => {
            let s = (end.0 - start.0).max(0) as f64 / 1000.0;
            if s < 60.0 {
                format!("{s:.1} s")
            } else {
                format!("{:.0} min {:.0} s", (s / 60.0).floor(), s % 60.0)
            }
        }
    }
}

fn render_runs(state: &AppState) -> Result<String, Problem> {
    let runs = state.store().runs_page(&RunQuery {
        limit: 50,
        ..RunQuery::default()
    })?;
    let mut out = String::from("<h1>Runs</h1>");
    if runs.is_empty() {
        out.push_str("<p>No runs recorded yet: <code>gantry run</code> records them.</p>");
        return Ok(out);
    }
    out.push_str(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Scrollable content\"><table><caption>The newest 50 runs</caption><thead><tr>\
         <th scope=\"col\">Run</th><th scope=\"col\">Workflow</th><th scope=\"col\">Event</th>\
         <th scope=\"col\">Ref</th><th scope=\"col\">Result</th><th scope=\"col\">Started</th>\
         <th scope=\"col\">Took</th></tr></thead><tbody>",
    );
    for r in &runs {
        let _ = write!(
            out,
            "<tr><td><a href=\"/runs/{id}\">#{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.workflow_name),
            esc(&r.event),
            esc(r.git_ref.as_deref().unwrap_or("—")),
            conclusion_badge(r.conclusion),
            r.started_at,
            duration(r.started_at, r.finished_at),
            id = r.id.0,
        );
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

/// The runs, newest first.
#[utoipa::path(get, path = "/", tag = "dashboard",
    responses((status = 200, description = "the runs page", body = String, content_type = "text/html"),
              (status = 303, description = "`?token=` given: the cookie is set, on to the page without it")))]
async fn runs_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(state, headers, uri, raw, "Runs", "/", render_runs).await
}

fn render_run(state: &AppState, id: RunId) -> Result<String, Problem> {
    let Some(run) = state.store().run(id)? else {
        return Err(Problem::not_found(format!("no run {id}")));
    };
    let mut out = format!(
        "<h1>Run #{} · {}</h1><p>{} on {} {}</p>",
        run.run.id.0,
        esc(&run.run.workflow_name),
        esc(&run.run.event),
        esc(run.run.git_ref.as_deref().unwrap_or("—")),
        conclusion_badge(run.run.conclusion)
    );
    // The job graph: one box per job in the order they started.
    let w = 180;
    let gap = 30;
    let n = run.jobs.len().max(1);
    let width = n * (w + gap);
    let _ = write!(
        out,
        "<h2>Jobs</h2><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Scrollable content\"><svg class=\"graph\" role=\"img\" aria-labelledby=\"jobs-title\" viewBox=\"0 0 {width} 70\" width=\"{width}\" height=\"70\"><title id=\"jobs-title\">Job graph of run {}: {} jobs</title>",
        run.run.id.0,
        run.jobs.len()
    );
    for (i, j) in run.jobs.iter().enumerate() {
        let x = i * (w + gap) + 5;
        let class = j.conclusion.map_or("running", |c| c.as_str());
        if i > 0 {
            let _ = write!(
                out,
                "<line x1=\"{}\" y1=\"35\" x2=\"{x}\" y2=\"35\" class=\"edge\"/>",
                x - gap
            );
        }
        let _ = write!(
            out,
            "<g class=\"node {class}\"><rect x=\"{x}\" y=\"10\" width=\"{w}\" height=\"50\" rx=\"6\"/><text x=\"{}\" y=\"40\" text-anchor=\"middle\">{}</text></g>",
            x + w / 2,
            esc(&j.name)
        );
    }
    out.push_str("</svg></div>");
    for j in &run.jobs {
        let _ = write!(
            out,
            "<section class=\"job\"><h3>{} {}</h3><ol class=\"steps\">",
            esc(&j.name),
            conclusion_badge(j.conclusion)
        );
        for s in &j.steps {
            let _ = write!(
                out,
                "<li>{} {} <span class=\"muted\">{}</span></li>",
                esc(&s.name),
                conclusion_badge(s.conclusion),
                duration(s.started_at, s.finished_at)
            );
        }
        out.push_str("</ol>");
        let log = read_log(state, &j.log_path);
        let _ = write!(
            out,
            "<details open><summary>Log of {}</summary><pre class=\"log\" tabindex=\"0\">{}</pre></details></section>",
            esc(&j.name),
            esc(&log)
        );
    }
    Ok(out)
}

fn read_log(state: &AppState, path: &std::path::Path) -> String {
    use std::io::Read as _;
    let Ok(Some(file)) = state.store().open_log(path) else {
        return String::new();
    };
    let mut bytes = Vec::new();
    let _ = file.take(1 << 20).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One run: its job graph, steps and logs.
#[utoipa::path(get, path = "/runs/{id}", tag = "dashboard",
    params(("id" = u64, Path, description = "the run id")),
    responses((status = 200, description = "the run's page", body = String, content_type = "text/html")))]
async fn run_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return problem_page(
            "/",
            &Problem::bad_request(format!("`{id}` is not a run id")),
        );
    };
    page(state, headers, uri, raw, "Run", "/", move |s| {
        render_run(s, RunId(id))
    })
    .await
}

fn render_compliance(state: &AppState) -> Result<String, Problem> {
    let report = services_report(state)?;
    let mut out = String::from(
        "<h1>Compliance</h1><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Scrollable content\"><table class=\"grid\"><caption>Each service's versions per compliance state</caption><thead><tr><th scope=\"col\">Service</th>",
    );
    for s in &report.states {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(s));
    }
    out.push_str("</tr></thead><tbody>");
    for service in &report.services {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(&service.name));
        for state_name in &report.states {
            let versions = service
                .states
                .iter()
                .find(|s| &s.state == state_name)
                .map(|s| s.versions.join(", "))
                .unwrap_or_default();
            let class = if versions.is_empty() { "empty" } else { "held" };
            let _ = write!(
                out,
                "<td class=\"{class}\" data-service=\"{}\" data-state=\"{}\">{}</td>",
                esc(&service.name),
                esc(state_name),
                if versions.is_empty() {
                    "—".to_string()
                } else {
                    esc(&versions)
                }
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

/// The status grid: services × compliance states.
#[utoipa::path(get, path = "/compliance", tag = "dashboard",
    responses((status = 200, description = "the compliance grid", body = String, content_type = "text/html")))]
async fn compliance_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        state,
        headers,
        uri,
        raw,
        "Compliance",
        "/compliance",
        render_compliance,
    )
    .await
}

fn render_promotions(state: &AppState) -> Result<String, Problem> {
    let report = services_report(state)?;
    let history = {
        let dir = state.inner.home.ledger();
        if dir.exists() {
            let ledger = gantry_ledger::Ledger::open(&dir)?;
            gantry_promote::state::History::build(&ledger.snapshot()?)
                .map_err(|e| Problem::internal(e.to_string()))?
        } else {
            gantry_promote::state::History::default()
        }
    };
    let list = gantry_promote::history::list(&history);
    let mut out = String::from("<h1>Promotions</h1><h2>Pipeline</h2><ol class=\"pipeline\">");
    for st in &report.states {
        let _ = write!(out, "<li class=\"stage\"><h3>{}</h3><ul>", esc(st));
        for p in &list.promotions {
            let Some(last) = p.attempts.iter().rev().find(|a| a.decision == "promoted") else {
                continue;
            };
            if &last.to == st {
                let _ = write!(
                    out,
                    "<li class=\"card\" data-package=\"{}\"><a href=\"/promotions#p-{}\">{}</a> {}</li>",
                    esc(&p.id),
                    esc(&p.id),
                    esc(p.id.get(..12).unwrap_or(&p.id)),
                    esc(&p.services.join(" "))
                );
            }
        }
        out.push_str("</ul></li>");
    }
    out.push_str("</ol><h2>History</h2>");
    if list.promotions.is_empty() {
        out.push_str("<p>No promotions yet.</p>");
        return Ok(out);
    }
    out.push_str(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Scrollable content\"><table><caption>Every promotion, newest activity last</caption><thead><tr><th scope=\"col\">Package</th><th scope=\"col\">Services</th><th scope=\"col\">Last attempt</th><th scope=\"col\">Approvals</th><th scope=\"col\">Last activity</th></tr></thead><tbody>",
    );
    for p in &list.promotions {
        let last = p.attempts.last().map_or("approved only".to_string(), |a| {
            format!("{} → {}", a.decision, a.to)
        });
        let approvers: Vec<&str> = p.approvals.iter().map(|a| a.approver.as_str()).collect();
        let _ = write!(
            out,
            "<tr id=\"p-{}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.id),
            esc(p.id.get(..12).unwrap_or(&p.id)),
            esc(&p.services.join(" ")),
            esc(&last),
            esc(&approvers.join(", ")),
            esc(&p.last)
        );
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

/// The promotion pipeline and history.
#[utoipa::path(get, path = "/promotions", tag = "dashboard",
    responses((status = 200, description = "the promotion pipeline", body = String, content_type = "text/html")))]
async fn promotions_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        state,
        headers,
        uri,
        raw,
        "Promotions",
        "/promotions",
        render_promotions,
    )
    .await
}

fn render_graph(state: &AppState) -> Result<String, Problem> {
    let report = services_report(state)?;
    // Layers: a service sits one right of its deepest dependency.
    let mut depth: std::collections::BTreeMap<&str, usize> = Default::default();
    for name in &report.order {
        let Some(service) = report.services.iter().find(|s| &s.name == name) else {
            continue;
        };
        let d = service
            .dependencies
            .iter()
            .filter_map(|dep| depth.get(dep.name.as_str()))
            .map(|d| d + 1)
            .max()
            .unwrap_or(0);
        depth.insert(name.as_str(), d);
    }
    let (w, h, gx, gy) = (150usize, 40usize, 70usize, 20usize);
    let mut rows: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut pos: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for name in &report.order {
        let d = depth.get(name.as_str()).copied().unwrap_or(0);
        let row = rows.entry(d).or_default();
        pos.insert(name.as_str(), (10 + d * (w + gx), 10 + *row * (h + gy)));
        *row += 1;
    }
    let width = 20 + (depth.values().max().copied().unwrap_or(0) + 1) * (w + gx);
    let height = 20 + rows.values().max().copied().unwrap_or(1) * (h + gy);
    let mut out = format!(
        "<h1>Service dependencies</h1><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Scrollable content\"><svg class=\"graph\" role=\"img\" aria-labelledby=\"deps-title\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\"><title id=\"deps-title\">Dependency graph of {} services: an arrow points from a service to what it depends on</title><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\"/></marker></defs>",
        report.services.len()
    );
    for service in &report.services {
        let Some(&(x, y)) = pos.get(service.name.as_str()) else {
            continue;
        };
        for dep in &service.dependencies {
            if let Some(&(dx, dy)) = pos.get(dep.name.as_str()) {
                let dash = if dep.optional {
                    " stroke-dasharray=\"4 3\""
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<line class=\"edge\" x1=\"{x}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" marker-end=\"url(#arrow)\"{dash}/>",
                    y + h / 2,
                    dx + w,
                    dy + h / 2
                );
            }
        }
    }
    for service in &report.services {
        let Some(&(x, y)) = pos.get(service.name.as_str()) else {
            continue;
        };
        let _ = write!(
            out,
            "<g class=\"node\"><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            x + w / 2,
            y + h / 2 + 5,
            esc(&service.name)
        );
    }
    out.push_str("</svg></div><h2>Promotion order</h2><ol>");
    for name in &report.order {
        let _ = write!(out, "<li>{}</li>", esc(name));
    }
    out.push_str("</ol>");
    Ok(out)
}

/// The service dependency graph (SVG).
#[utoipa::path(get, path = "/services/graph", tag = "dashboard",
    responses((status = 200, description = "the dependency graph", body = String, content_type = "text/html")))]
async fn graph_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        state,
        headers,
        uri,
        raw,
        "Dependencies",
        "/services/graph",
        render_graph,
    )
    .await
}

fn render_flaky(state: &AppState) -> Result<String, Problem> {
    let quarantine = gantry_tests::load_quarantine(&state.inner.root)
        .map_err(|e| Problem::internal(e.to_string()))?;
    let report = state.store().flaky_report(None, &quarantine)?;
    let mut out = format!(
        "<h1>Flaky tests</h1><p>Tests that failed and passed on one commit, over {} runs.</p>",
        report.runs
    );
    if report.tests.is_empty() {
        out.push_str("<p>No flaky tests.</p>");
        return Ok(out);
    }
    out.push_str("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Scrollable content\"><table><caption>Flaky tests, flakiest first</caption><thead><tr><th scope=\"col\">Test</th><th scope=\"col\">Flaky commits</th><th scope=\"col\">Flake rate</th><th scope=\"col\">Quarantined</th></tr></thead><tbody>");
    for t in &report.tests {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} of {}</td><td>{:.0} %</td><td>{}</td></tr>",
            esc(&t.test.test),
            t.test.flaky_commits,
            t.test.commits,
            t.test.flake_rate * 100.0,
            esc(t.quarantined.as_deref().unwrap_or("no"))
        );
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

/// Flaky tests.
#[utoipa::path(get, path = "/tests/flaky", tag = "dashboard",
    responses((status = 200, description = "the flaky tests page", body = String, content_type = "text/html")))]
async fn flaky_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        state,
        headers,
        uri,
        raw,
        "Flaky tests",
        "/tests/flaky",
        render_flaky,
    )
    .await
}

fn deployment_badge(state: DeploymentState) -> String {
    let name = state.as_str();
    format!(
        "<span class=\"badge {name}\">{}</span>",
        name.replace('_', " ")
    )
}

/// The environments deployed to, each once (names that differ only in
/// case are one environment, as the store compares them).
fn environments(state: &AppState) -> Result<Vec<String>, Problem> {
    let mut seen = std::collections::HashSet::new();
    Ok(state
        .store()
        .deployment_counts()?
        .into_iter()
        .map(|(e, _, _)| e)
        .filter(|e| seen.insert(e.to_lowercase()))
        .collect())
}

/// How many deployments of each environment the page lists.
const DEPLOYMENTS_PER_ENVIRONMENT: usize = 20;

fn short_commit(commit: Option<&str>) -> String {
    match commit {
        Some(c) => format!(
            "<code title=\"{}\">{}</code>",
            esc(c),
            esc(c.get(..12).unwrap_or(c))
        ),
        None => "—".to_string(),
    }
}

fn render_deployments(state: &AppState) -> Result<String, Problem> {
    let environments = environments(state)?;
    let mut out = String::from("<h1>Deployments</h1>");
    if environments.is_empty() {
        out.push_str(
            "<p>No deployments recorded yet: a job with <code>environment:</code> records one when <code>gantry run</code> runs it.</p>",
        );
        return Ok(out);
    }
    out.push_str("<ul class=\"envs\">");
    for (i, e) in environments.iter().enumerate() {
        let _ = write!(out, "<li><a href=\"#env-{i}\">{}</a></li>", esc(e));
    }
    out.push_str("</ul>");
    for (i, environment) in environments.iter().enumerate() {
        // The same call as `GET /v1/deployments?environment=E&limit=20`.
        let list = state
            .store()
            .deployments(Some(environment), DEPLOYMENTS_PER_ENVIRONMENT)?;
        let _ = write!(
            out,
            "<section class=\"env\" aria-labelledby=\"env-{i}\" data-environment=\"{}\"><h2 id=\"env-{i}\">{}</h2>",
            esc(environment),
            esc(environment)
        );
        match list.iter().find(|d| d.state == DeploymentState::Success) {
            Some(live) => {
                let _ = write!(
                    out,
                    "<p class=\"live\">Live: deployment #{} of {} since {}.</p>",
                    live.id,
                    short_commit(live.commit.as_deref()),
                    live.updated_at
                );
            }
            None => out.push_str("<p class=\"live\">Nothing live: none of these deployments is the environment&#39;s current success.</p>"),
        }
        let _ = write!(
            out,
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Deployments to {}\"><table><caption>The newest {} deployments to {}</caption><thead><tr>\
             <th scope=\"col\">Deployment</th><th scope=\"col\">State</th><th scope=\"col\">Commit</th>\
             <th scope=\"col\">Ref</th><th scope=\"col\">Run</th><th scope=\"col\">By</th>\
             <th scope=\"col\">Created</th><th scope=\"col\">Note</th></tr></thead><tbody>",
            esc(environment),
            DEPLOYMENTS_PER_ENVIRONMENT,
            esc(environment)
        );
        for d in &list {
            let note = match (d.rollback_of, d.description.as_deref()) {
                (Some(of), Some(text)) => format!("rollback to #{of}: {}", esc(text)),
                (Some(of), None) => format!("rollback to #{of}"),
                (None, Some(text)) => esc(text),
                (None, None) => String::new(),
            };
            let run = d.run.map_or("—".to_string(), |r| {
                format!("<a href=\"/runs/{}\">#{}</a>", r.0, r.0)
            });
            let _ = write!(
                out,
                "<tr data-deployment=\"{}\" data-state=\"{}\"><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{run}</td><td>{}</td><td>{}</td><td>{note}</td></tr>",
                d.id,
                d.state,
                d.id,
                deployment_badge(d.state),
                short_commit(d.commit.as_deref()),
                esc(d.git_ref.as_deref().unwrap_or("—")),
                esc(&d.creator),
                d.created_at,
            );
        }
        out.push_str("</tbody></table></div></section>");
    }
    Ok(out)
}

/// Deployments per environment: what is live and the newest deployments.
#[utoipa::path(get, path = "/deployments", tag = "dashboard",
    responses((status = 200, description = "the deployments page", body = String, content_type = "text/html")))]
async fn deployments_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        state,
        headers,
        uri,
        raw,
        "Deployments",
        "/deployments",
        render_deployments,
    )
    .await
}

fn render_rollouts(state: &AppState) -> Result<String, Problem> {
    // The same call as `GET /v1/rollouts`.
    let doc = gantry_deliver::rollout::run::rollouts_document(state.store())
        .map_err(|e| Problem::internal(e.to_string()))?;
    let mut out = String::from("<h1>Rollouts</h1>");
    if doc.rollouts.is_empty() {
        out.push_str(
            "<p>No rollouts yet: <code>gantry rollout run NAME</code> starts one from <code>.gantry/rollouts/NAME.yml</code>.</p>",
        );
        return Ok(out);
    }
    out.push_str(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Rollouts\"><table><caption>Every rollout, by name, with the traffic its canary gets now</caption><thead><tr>\
         <th scope=\"col\">Rollout</th><th scope=\"col\">Canary weight</th><th scope=\"col\">Phase</th>\
         <th scope=\"col\">Step</th><th scope=\"col\">Last analysis</th><th scope=\"col\">Message</th>\
         <th scope=\"col\">Updated</th></tr></thead><tbody>",
    );
    for r in &doc.rollouts {
        let analysis = match &r.last_verdict {
            None => "—".to_string(),
            Some(verdict) => {
                let mut text = esc(verdict);
                if let Some(rate) = r.last_success_rate {
                    let _ = write!(text, ", {:.1} % succeeded", rate * 100.0);
                }
                if let Some(p99) = r.last_p99_ms {
                    let _ = write!(text, ", p99 {p99:.1} ms");
                }
                text
            }
        };
        let phase_class = if r.running { "running" } else { "ended" };
        let _ = write!(
            out,
            "<tr data-rollout=\"{}\" data-weight=\"{}\"><th scope=\"row\">{}</th><td class=\"weight\">{} <span>{} %</span></td>\
             <td><span class=\"badge {phase_class}\">{}</span></td><td>{}</td><td>{analysis}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.name),
            r.canary_weight,
            esc(&r.name),
            crate::charts::traffic_split(r.canary_weight),
            r.canary_weight,
            esc(&r.phase),
            if r.steps > 0 {
                format!("{} of {}", r.step, r.steps)
            } else {
                "—".to_string()
            },
            if r.message.is_empty() {
                "—".to_string()
            } else {
                esc(&r.message)
            },
            r.updated_at,
        );
    }
    out.push_str("</tbody></table></div>");
    Ok(out)
}

/// Rollouts with their canary's current weight.
#[utoipa::path(get, path = "/rollouts", tag = "dashboard",
    responses((status = 200, description = "the rollouts page", body = String, content_type = "text/html")))]
async fn rollouts_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        state,
        headers,
        uri,
        raw,
        "Rollouts",
        "/rollouts",
        render_rollouts,
    )
    .await
}

/// The DORA page's query: the API's `environment` and `since`.
#[derive(Deserialize, Default)]
struct DoraPageQuery {
    environment: Option<String>,
    since: Option<String>,
}

/// The windows the DORA page offers.
const DORA_WINDOWS: [&str; 4] = ["30d", "90d", "180d", "365d"];

fn dora_link(environment: &str, since: &str) -> String {
    let q = serde_urlencoded::to_string([("environment", environment), ("since", since)])
        .unwrap_or_default();
    esc(&format!("/dora?{q}"))
}

fn cluster_badge(c: Option<gantry_deliver::dora::Cluster>) -> String {
    match c {
        Some(c) => format!(
            "<span class=\"cluster {}\">{}</span>",
            c.as_str(),
            c.as_str()
        ),
        None => "<span class=\"cluster none\">not classified</span>".to_string(),
    }
}

fn long_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min {} s", s % 60)
    } else {
        format!("{s} s")
    }
}

fn render_dora(state: &AppState, raw: Option<&str>) -> Result<String, Problem> {
    use crate::charts::{WeekChart, count, percent, short_duration, week_bars};
    use gantry_deliver::dora::{self, DoraQuery};

    let q: DoraPageQuery = serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let query = DoraQuery::parse(q.environment.as_deref(), q.since.as_deref())
        .map_err(crate::api::dora_problem)?;
    // The same call as `GET /v1/dora` and `gantry dora`.
    let r = dora::report(state.store(), &query, gantry_store::Timestamp::now())
        .map_err(crate::api::dora_problem)?;
    let since_text = q
        .since
        .as_deref()
        .unwrap_or(dora::DEFAULT_SINCE)
        .trim()
        .to_string();

    let mut out = format!(
        "<h1>DORA</h1><p>Software delivery performance of <strong>{}</strong> from {} to {} ({:.0} days), with the definitions of dora.dev (2024) and its 2024 performance clusters.</p>",
        esc(&r.environment),
        r.since,
        r.until,
        r.window_days
    );
    let mut names = environments(state)?;
    if !names.iter().any(|e| e.eq_ignore_ascii_case(&r.environment)) {
        names.push(r.environment.clone());
    }
    out.push_str("<div class=\"choices\"><span id=\"dora-env\">Environment</span><ul aria-labelledby=\"dora-env\">");
    for e in &names {
        let here = if e.eq_ignore_ascii_case(&r.environment) {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li><a href=\"{}\"{here}>{}</a></li>",
            dora_link(e, &since_text),
            esc(e)
        );
    }
    out.push_str("</ul></div><div class=\"choices\"><span id=\"dora-window\">Window</span><ul aria-labelledby=\"dora-window\">");
    for w in DORA_WINDOWS {
        let here = if w == since_text {
            " aria-current=\"true\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li><a href=\"{}\"{here}>{w}</a></li>",
            dora_link(&r.environment, w)
        );
    }
    out.push_str("</ul></div>");

    let f = &r.deployment_frequency;
    let l = &r.change_lead_time;
    let c = &r.change_fail_rate;
    let t = &r.failed_deployment_recovery_time;
    let w = &r.deployment_rework_rate;
    let opt = |v: Option<f64>, show: fn(f64) -> String| v.map_or_else(|| "—".to_string(), show);
    let raw_value = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    let figures: [(&str, &str, String, String, String, String); 5] = [
        (
            "deployment_frequency",
            "Deployment frequency",
            format!("{:.2} a day", f.per_day),
            f.per_day.to_string(),
            cluster_badge(f.cluster),
            format!("{} deployments, {:.1} a week", f.deployments, f.per_week),
        ),
        (
            "change_lead_time",
            "Change lead time",
            opt(l.median_seconds, long_duration),
            raw_value(l.median_seconds),
            cluster_badge(l.cluster),
            format!(
                "median of {} changes, commit to success{}",
                l.changes,
                if l.without_commit_time > 0 {
                    format!("; {} without a commit time", l.without_commit_time)
                } else {
                    String::new()
                }
            ),
        ),
        (
            "change_fail_rate",
            "Change fail rate",
            opt(c.rate, |r| format!("{:.1} %", r * 100.0)),
            raw_value(c.rate),
            cluster_badge(c.cluster),
            format!(
                "{} of {} deployments failed, were rolled back or caused an incident",
                c.count, c.deployments
            ),
        ),
        (
            "failed_deployment_recovery_time",
            "Failed deployment recovery time",
            opt(t.median_seconds, long_duration),
            raw_value(t.median_seconds),
            cluster_badge(t.cluster),
            format!(
                "median of {} recovered; {} not recovered",
                t.recovered, t.unrecovered
            ),
        ),
        (
            "deployment_rework_rate",
            "Deployment rework rate",
            opt(w.rate, |r| format!("{:.1} %", r * 100.0)),
            raw_value(w.rate),
            cluster_badge(None),
            format!(
                "{} of {} deployments were unplanned, made because of a failure",
                w.count, w.deployments
            ),
        ),
    ];
    out.push_str("<h2>The five figures</h2><ul class=\"figures\">");
    for (key, name, shown, value, badge, detail) in &figures {
        let _ = write!(
            out,
            "<li class=\"figure\" data-metric=\"{key}\" data-value=\"{value}\"><h3>{name}</h3><p class=\"value\">{}</p><p>{badge}</p><p class=\"muted\">{}</p></li>",
            esc(shown),
            esc(detail)
        );
    }
    out.push_str("</ul>");
    if r.in_progress > 0 {
        let _ = write!(
            out,
            "<p>{} deployments still under way are not counted yet.</p>",
            r.in_progress
        );
    }

    out.push_str("<h2>Trends, week by week</h2>");
    if r.weeks.is_empty() {
        out.push_str("<p>No weeks in the window.</p>");
    } else {
        let charts = [
            WeekChart {
                id: "trend-deployments",
                title: "Deployments a week",
                points: r
                    .weeks
                    .iter()
                    .map(|w| (w.start, Some(w.deployments as f64)))
                    .collect(),
                format: count,
            },
            WeekChart {
                id: "trend-lead-time",
                title: "Change lead time a week (median)",
                points: r
                    .weeks
                    .iter()
                    .map(|w| (w.start, w.lead_time_median_seconds))
                    .collect(),
                format: short_duration,
            },
            WeekChart {
                id: "trend-fail-rate",
                title: "Change fail rate a week",
                points: r
                    .weeks
                    .iter()
                    .map(|w| (w.start, w.change_fail_rate))
                    .collect(),
                format: percent,
            },
            WeekChart {
                id: "trend-recovery",
                title: "Failed deployment recovery time a week (median)",
                points: r
                    .weeks
                    .iter()
                    .map(|w| (w.start, w.recovery_median_seconds))
                    .collect(),
                format: short_duration,
            },
        ];
        out.push_str("<div class=\"charts\">");
        for chart in &charts {
            let _ = write!(
                out,
                "<figure><figcaption>{}</figcaption>{}</figure>",
                esc(chart.title),
                week_bars(chart)
            );
        }
        out.push_str("</div>");
        out.push_str(
            "<details><summary>Week by week, as a table</summary><div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Week by week\"><table><caption>Each week of the window (weeks start on Monday, UTC)</caption><thead><tr>\
             <th scope=\"col\">Week of</th><th scope=\"col\">Deployments</th><th scope=\"col\">Failed changes</th>\
             <th scope=\"col\">Change fail rate</th><th scope=\"col\">Lead time (median)</th><th scope=\"col\">Recovery (median)</th></tr></thead><tbody>",
        );
        for wk in &r.weeks {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                wk.start.to_string().get(..10).unwrap_or_default(),
                wk.deployments,
                wk.failed_changes,
                opt(wk.change_fail_rate, percent),
                opt(wk.lead_time_median_seconds, long_duration),
                opt(wk.recovery_median_seconds, long_duration)
            );
        }
        out.push_str("</tbody></table></div></details>");
    }

    out.push_str("<h2>Failed changes</h2>");
    if r.failed_changes.is_empty() {
        out.push_str("<p>No failed changes in the window.</p>");
    } else {
        out.push_str(
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Failed changes\"><table><caption>Deployments of the window that failed, were rolled back or caused an incident</caption><thead><tr>\
             <th scope=\"col\">Deployment</th><th scope=\"col\">Why</th><th scope=\"col\">Failed at</th>\
             <th scope=\"col\">Recovered at</th><th scope=\"col\">Recovery time</th></tr></thead><tbody>",
        );
        for fc in &r.failed_changes {
            let why: Vec<&str> = fc
                .reasons
                .iter()
                .map(|x| match x {
                    dora::FailReason::Failed => "failed",
                    dora::FailReason::RolledBack => "rolled back",
                    dora::FailReason::Incident => "incident",
                })
                .collect();
            let _ = write!(
                out,
                "<tr data-failed=\"{}\"><td>#{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                fc.deployment,
                fc.deployment,
                why.join(", "),
                fc.failed_at,
                fc.recovered_at
                    .map_or_else(|| "not yet".to_string(), |t| t.to_string()),
                opt(fc.recovery_seconds, long_duration)
            );
        }
        out.push_str("</tbody></table></div>");
    }
    Ok(out)
}

/// DORA's five figures of an environment, with trend charts.
#[utoipa::path(get, path = "/dora", tag = "dashboard",
    params(
        ("environment" = Option<String>, Query, description = "the environment (default production)"),
        ("since" = Option<String>, Query, description = "the window, as `gantry dora --since` (default 90d)")),
    responses((status = 200, description = "the DORA page", body = String, content_type = "text/html"),
              (status = 400, description = "a malformed `since`", body = String, content_type = "text/html")))]
async fn dora_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = raw.clone();
    page(state, headers, uri, raw, "DORA", "/dora", move |s| {
        render_dora(s, query.as_deref())
    })
    .await
}

/// Server-sent events: `changed` whenever a package, promotion or
/// approval is recorded through this server.
#[utoipa::path(get, path = "/events", tag = "dashboard",
    security(("bearer" = [])),
    responses((status = 200, description = "an event stream", body = String, content_type = "text/event-stream"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(p) = authorize(&state, &headers, Role::Viewer).await {
        return p.into_response();
    }
    let rx = state.inner.changes.subscribe();
    let stream = futures_stream(rx);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn futures_stream(
    rx: tokio::sync::watch::Receiver<u64>,
) -> impl futures_core::Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let n = *rx.borrow_and_update();
        Some((
            Ok(Event::default().event("changed").data(n.to_string())),
            rx,
        ))
    })
}

/// The dashboard's script.
#[utoipa::path(get, path = "/assets/live.js", tag = "dashboard",
    responses((status = 200, description = "the live-update script", body = String, content_type = "text/javascript")))]
async fn live_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        LIVE_JS,
    )
        .into_response()
}

/// The dashboard's style sheet.
#[utoipa::path(get, path = "/assets/style.css", tag = "dashboard",
    responses((status = 200, description = "the style sheet", body = String, content_type = "text/css")))]
async fn style_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

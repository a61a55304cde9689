//! `gantry token`, `gantry dashboards grafana` and `gantry serve`'s
//! refusal to serve plain HTTP off loopback.

use std::path::Path;
use std::process::{Command, Output};

fn gantry(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env("GANTRY_HOME", home)
        .output()
        .unwrap()
}

#[test]
fn a_token_is_printed_once_listed_without_its_secret_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let made = gantry(
        &home,
        &[
            "token",
            "create",
            "--name",
            "alice",
            "--role",
            "approver",
            "--expires",
            "30d",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8(made.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("gantry_") && token.len() > 40, "{token}");
    let again = gantry(
        &home,
        &["token", "create", "--name", "alice", "--role", "viewer"],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let bad = gantry(
        &home,
        &[
            "token",
            "create",
            "--name",
            "bob",
            "--role",
            "viewer",
            "--expires",
            "soon",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a duration"));

    let list = gantry(&home, &["token", "list", "--format", "json"]);
    assert!(list.status.success());
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["tokens"][0]["name"], "alice");
    assert_eq!(list["tokens"][0]["role"], "approver");
    assert!(!list["tokens"][0]["expires_at"].is_null());
    assert!(!list.to_string().contains(&token));
    let db = std::fs::read(home.join("gantry.db")).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));

    let revoked = gantry(&home, &["token", "revoke", "alice"]);
    assert!(revoked.status.success());
    let list = gantry(&home, &["token", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("revoked"));
    let missing = gantry(&home, &["token", "revoke", "nobody"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn the_grafana_dashboard_is_json_over_the_metrics_series() {
    let dir = tempfile::tempdir().unwrap();
    let out = gantry(dir.path(), &["dashboards", "grafana"]);
    assert!(out.status.success());
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["uid"], "gantry");
    assert!(d["panels"].as_array().unwrap().len() >= 8);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("gantry_http_request_duration_seconds_bucket")
    );
}

#[test]
fn serve_refuses_plain_http_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = gantry(dir.path(), &["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs TLS") && err.contains("--insecure"),
        "{err}"
    );
}

#[test]
fn serve_answers_health_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("GANTRY_HOME", dir.path().join("home"))
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    // The access log names the request, and nothing else was printed.
    assert!(
        rest.iter().any(|l| l.contains("GET /healthz 200")),
        "{rest:?}"
    );
}

//! `gantry notifications` as users run it: what the outbox holds, a
//! delivery pass, and the exit codes, with receivers on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use gantry_deliver::notify::{
    self, EventKind, Notification, NotificationTarget, Status, TargetKind,
};

fn gantry(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("GANTRY_HOME", home)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A receiver answering 200 on `/ok` and 500 elsewhere, one request per
/// connection; returns its address and the idempotency keys it got.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let keys = Arc::new(Mutex::new(Vec::new()));
    let seen = keys.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("idempotency-key:") {
                    seen.lock().unwrap().push(v.trim().to_string());
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let status = if request_line.contains(" /ok ") {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let mut stream = stream;
            let _ = stream.write_all(
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    (base, keys)
}

#[test]
fn the_outbox_is_listed_and_flushed() {
    let home = tempfile::tempdir().unwrap();
    let empty = gantry(home.path(), &["notifications"]);
    assert_eq!(empty.status.code(), Some(0));
    assert_eq!(text(&empty.stdout), "no notifications waiting\n");

    let (base, keys) = receiver();
    let notification = Notification::new(
        EventKind::Rollout,
        "web",
        Status::RolledBack,
        "canary failed its analysis at 10%",
        "rollout-web-3",
    );
    {
        let store = gantry_store::Store::open(home.path()).unwrap();
        let targets = [
            NotificationTarget {
                kind: TargetKind::Webhook,
                url: format!("{base}/ok"),
            },
            NotificationTarget {
                kind: TargetKind::Slack,
                url: format!("{base}/broken"),
            },
        ];
        notify::enqueue(&store, &targets, &notification).unwrap();
    }
    let listed = gantry(home.path(), &["notifications", "list"]);
    let stdout = text(&listed.stdout);
    assert_eq!(listed.status.code(), Some(0));
    assert!(stdout.starts_with("ID  STATUS   ATTEMPTS"), "{stdout}");
    assert_eq!(stdout.matches("pending").count(), 2, "{stdout}");
    assert!(
        stdout.contains("canary failed its analysis at 10%"),
        "{stdout}"
    );

    // One attempt each: the webhook arrives, Slack fails for good.
    let delivered = gantry(
        home.path(),
        &["notifications", "deliver", "--max-attempts", "1"],
    );
    let stdout = text(&delivered.stdout);
    assert_eq!(delivered.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("1 delivered, 0 to retry, 1 failed"),
        "{stdout}"
    );
    let key = notification.idempotency_key();
    assert_eq!(*keys.lock().unwrap(), [key.clone(), key]);

    let json = gantry(home.path(), &["notifications", "list", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["version"], 1);
    let deliveries = document["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["status"], "failed");
    assert_eq!(deliveries[0]["target_kind"], "slack");
    assert_eq!(deliveries[0]["last_http_status"], 500);

    let all = gantry(home.path(), &["notifications", "list", "--all"]);
    assert!(text(&all.stdout).contains("delivered"));
    let retry = gantry(home.path(), &["notifications", "retry"]);
    assert!(text(&retry.stdout).starts_with("1 failed delivery is pending again"));
    let failed_after_retry = gantry(home.path(), &["notifications", "list", "--failed"]);
    assert_eq!(
        text(&failed_after_retry.stdout),
        "no notifications waiting\n"
    );
}

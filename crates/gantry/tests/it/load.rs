//! `gantry load` as users run it: the report, thresholds and exit codes,
//! against a loopback server started here.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

fn gantry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A keep-alive HTTP/1.1 server on loopback that answers every tenth
/// request with a 500; it stops when `stop` is set and it is contacted.
struct Server {
    url: String,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicU64>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(
            self.url.trim_start_matches("http://").trim_end_matches('/'),
        );
    }
}

fn server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let (stop2, served2) = (stop.clone(), served.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop2.load(Ordering::Relaxed) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let served = served2.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    // Read one request head.
                    let mut line = String::new();
                    let mut got = false;
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => got = true,
                        }
                    }
                    if !got {
                        return;
                    }
                    let n = served.fetch_add(1, Ordering::Relaxed);
                    let status = if n % 10 == 0 {
                        "500 Internal Server Error"
                    } else {
                        "200 OK"
                    };
                    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
                    if writer.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Server { url, stop, served }
}

#[test]
fn load_reports_and_exits_by_its_thresholds() {
    let server = server();
    let passing = gantry(&[
        "load",
        &server.url,
        "--rate",
        "100/s",
        "--duration",
        "500ms",
        "--threshold",
        "error_rate<0.2",
        "--threshold",
        "p99<10s",
    ]);
    let stdout = text(&passing.stdout);
    assert_eq!(
        passing.status.code(),
        Some(0),
        "{stdout}{}",
        text(&passing.stderr)
    );
    assert!(stdout.contains("requests    50 in"), "{stdout}");
    assert!(stdout.contains("5xx 5"), "{stdout}");
    assert!(
        stdout.contains("threshold   pass  error_rate<0.2"),
        "{stdout}"
    );

    let failing = gantry(&[
        "load",
        &server.url,
        "--concurrency",
        "2",
        "--duration",
        "300ms",
        "--threshold",
        "error_rate<0.05",
        "--format",
        "json",
    ]);
    assert_eq!(failing.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&failing.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["model"], "concurrency");
    assert_eq!(report["thresholds"][0]["passed"], false);
    let requests = report["requests"].as_u64().unwrap();
    assert_eq!(requests + 50, server.served.load(Ordering::Relaxed));
    assert!(report["errors"]["status_5xx"].as_u64().unwrap() >= requests / 10);
}

#[test]
fn bad_load_input_exits_2_and_points_at_the_threshold() {
    let bad = gantry(&[
        "load",
        "http://127.0.0.1:9/",
        "--rate",
        "10/s",
        "--duration",
        "1s",
        "--threshold",
        "p99<5parsecs",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("invalid threshold `p99<5parsecs` at column 6"),
        "{stderr}"
    );
    assert!(stderr.contains("     ^"), "{stderr}");

    let no_model = gantry(&["load", "http://127.0.0.1:9/", "--duration", "1s"]);
    assert_eq!(no_model.status.code(), Some(2));
    let https = gantry(&[
        "load",
        "https://127.0.0.1:9/",
        "--rate",
        "1",
        "--duration",
        "1s",
    ]);
    assert_eq!(https.status.code(), Some(2));
    assert!(text(&https.stderr).contains("only http://"));
}

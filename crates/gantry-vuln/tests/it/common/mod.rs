//! What the integration tests share: OSV records and archives to import.

use std::io::Write;
use std::path::Path;

/// An OSV record of one package with one `ECOSYSTEM` range.
pub(crate) fn record(
    id: &str,
    aliases: &[&str],
    eco: &str,
    name: &str,
    events: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "id": id, "modified": "2024-05-01T00:00:00Z", "aliases": aliases,
        "summary": format!("summary of {id}"),
        "affected": [{"package": {"ecosystem": eco, "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": events}]}]
    })
}

/// A zip archive holding `entries`.
pub(crate) fn zip_with(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// Runs `f` on a thread so that a regression that blocks (on a FIFO)
/// fails the test instead of hanging the suite; a guard, not a timing.
pub(crate) fn guarded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .expect("blocked (a FIFO was opened?)")
}

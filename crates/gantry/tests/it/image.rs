//! Container images through the CLI as a new user meets them: an image
//! built by the test (a `docker save` tarball, never pulled), its SBOM,
//! its scan against Debian and Alpine advisories in OSV form matched with
//! dpkg's and apk's version orders, and its attestation by digest,
//! verified and kept in the ledger.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

fn gantry(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env("GANTRY_HOME", home)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("GANTRY_FAIL_ON")
        .env_remove("GANTRY_DB_MAX_AGE")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A one-layer `docker save` tarball of `files`, tagged `tag`.
fn docker_save(out: &Path, tag: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let layer = tar_of(files);
    let diff_id = hex(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]},
    }))
    .unwrap();
    let config_hex = hex(&config);
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": [tag],
        "Layers": [format!("{diff_id}/layer.tar")],
    }]))
    .unwrap();
    let image = tar_of(&[
        (&format!("{diff_id}/layer.tar"), &layer),
        (&format!("{config_hex}.json"), &config),
        ("manifest.json", &manifest),
    ]);
    std::fs::write(out, image).unwrap();
    out.to_path_buf()
}

fn dpkg(name: &str, version: &str) -> String {
    format!(
        "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\nDescription: {name}\n\n"
    )
}

/// A Debian 12 image: openssl at a release candidate (`~rc1` sorts before
/// the release in dpkg's order, after it as text) and zlib1g with an epoch
/// (newer than any version without one, older as text).
fn debian_image(dir: &Path, openssl: &str) -> PathBuf {
    let status = format!(
        "{}{}",
        dpkg("openssl", openssl),
        dpkg("zlib1g", "1:1.2.11.dfsg-2")
    );
    docker_save(
        &dir.join(format!("debian-{openssl}.tar")),
        "shop/api:1.0",
        &[
            ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
            ("var/lib/dpkg/status", status.as_bytes()),
        ],
    )
}

/// An Alpine 3.19 image with musl at `1.2.4_rc1-r0` (before `1.2.4-r0` in
/// apk's order, after it as text).
fn alpine_image(dir: &Path) -> PathBuf {
    docker_save(
        &dir.join("alpine.tar"),
        "shop/edge:1.0",
        &[
            ("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n"),
            (
                "lib/apk/db/installed",
                b"P:musl\nV:1.2.4_rc1-r0\nA:x86_64\no:musl\n\n",
            ),
        ],
    )
}

fn advisory(id: &str, ecosystem: &str, name: &str, fixed: &str) -> String {
    serde_json::json!({
        "id": id,
        "modified": "2023-11-01T00:00:00Z",
        "summary": format!("{name} before {fixed}"),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }],
    })
    .to_string()
}

/// The distribution advisories, imported into `home`'s database.
fn import_advisories(dir: &Path, home: &Path) {
    let osv = dir.join("osv");
    std::fs::create_dir_all(&osv).unwrap();
    for (id, ecosystem, name, fixed) in [
        ("DEBIAN-CVE-2099-0001", "Debian:12", "openssl", "3.0.11-1"),
        ("DEBIAN-CVE-2099-0002", "Debian:12", "zlib1g", "2.0-1"),
        ("ALPINE-CVE-2099-0003", "Alpine:v3.19", "musl", "1.2.4-r0"),
    ] {
        std::fs::write(
            osv.join(format!("{id}.json")),
            advisory(id, ecosystem, name, fixed),
        )
        .unwrap();
    }
    let out = gantry(dir, home, &["db", "import", "osv"]);
    assert!(out.status.success(), "{}", text(&out));
}

fn finding_ids(out: &Output) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["ids"][0].as_str().unwrap(), f["package"]))
        .collect()
}

#[test]
fn distro_advisories_match_image_packages_in_their_own_version_order() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    import_advisories(dir.path(), &home);
    let debian = debian_image(dir.path(), "3.0.11~rc1-1");
    let alpine = alpine_image(dir.path());

    let out = gantry(
        dir.path(),
        &home,
        &["scan", debian.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let ids = finding_ids(&out);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0].starts_with("DEBIAN-CVE-2099-0001"), "{ids:?}");

    let out = gantry(
        dir.path(),
        &home,
        &["scan", alpine.to_str().unwrap(), "--format", "json"],
    );
    let ids = finding_ids(&out);
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0].starts_with("ALPINE-CVE-2099-0003"), "{ids:?}");

    // The fixed release is not reported, and the human report names the
    // image and the package.
    let fixed = debian_image(dir.path(), "3.0.11-1");
    let out = gantry(dir.path(), &home, &["scan", fixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = gantry(dir.path(), &home, &["scan", debian.to_str().unwrap()]);
    assert!(text(&out).contains("openssl"), "{}", text(&out));
}

#[test]
fn an_image_sbom_lists_its_os_packages_with_distro_purls() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let image = debian_image(dir.path(), "3.0.11~rc1-1");
    let out = gantry(
        dir.path(),
        &home,
        &["sbom", image.to_str().unwrap(), "-o", "api.cdx.json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("shop/api:1.0"), "{}", text(&out));
    let bom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("api.cdx.json")).unwrap()).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/openssl@") && p.contains("distro=debian-12")),
        "{purls:?}"
    );
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/zlib1g@")),
        "{purls:?}"
    );
}

#[test]
fn an_image_is_attested_by_digest_verified_and_kept_in_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let d = dir.path();
    let image = debian_image(d, "3.0.11~rc1-1");
    let other = alpine_image(d);
    let image = image.to_str().unwrap();
    for args in [
        &["key", "generate"][..],
        &["sbom", image, "-o", "api.cdx.json"],
        &[
            "attest",
            "-t",
            "cyclonedx",
            "-p",
            "api.cdx.json",
            "--image",
            image,
            "-k",
            "gantry.key",
            "-o",
            "api.intoto.json",
        ],
    ] {
        let out = gantry(d, &home, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    // The subject is the image, by the digest Docker calls it by.
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("api.intoto.json")).unwrap()).unwrap();
    let payload = gantry_attest::base64::decode(envelope["payload"].as_str().unwrap()).unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["subject"][0]["name"], "shop/api:1.0");
    let digest = statement["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap();
    assert_eq!(digest.len(), 64);

    let verify = |img: &str| {
        gantry(
            d,
            &home,
            &[
                "verify",
                "-k",
                "gantry.pub",
                "-a",
                "api.intoto.json",
                "--image",
                img,
                "-t",
                "cyclonedx",
            ],
        )
    };
    let out = verify(image);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = verify(other.to_str().unwrap());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("matches no subject"), "{}", text(&out));

    let out = gantry(
        d,
        &home,
        &[
            "ledger",
            "append",
            "api.intoto.json",
            "--service",
            "api",
            "--service-version",
            "1.0.0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = gantry(d, &home, &["ledger", "verify"]);
    assert!(out.status.success(), "{}", text(&out));

    // Not an image: a clear error, exit 2.
    std::fs::write(d.join("notes.txt"), "hello").unwrap();
    let out = gantry(
        d,
        &home,
        &[
            "attest",
            "-t",
            "cyclonedx",
            "-p",
            "api.cdx.json",
            "--image",
            "notes.txt",
            "-k",
            "gantry.key",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("notes.txt"), "{}", text(&out));
}

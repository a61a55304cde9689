//! Packages: content-addressed, immutable, checked when read.

use gantry_promote::package::{PackageError, PackageRequest, PackageStore};

fn known() -> Vec<String> {
    vec!["service-a".into(), "service-b".into(), "service-c".into()]
}

fn request(services: &[&str], version: &str) -> PackageRequest {
    PackageRequest {
        services: services.iter().map(|s| s.to_string()).collect(),
        version: version.to_string(),
        created_by: "release-bot".into(),
        time: "2026-12-06T10:00:00Z".into(),
        ..PackageRequest::default()
    }
}

#[test]
fn the_same_content_gets_the_same_id_and_the_first_package_stands() {
    let home = tempfile::tempdir().unwrap();
    let store = PackageStore::new(home.path().join("packages"));
    let first = store
        .create(&request(&["service-b", "service-a"], "1.0.0"), &known())
        .unwrap();
    assert!(first.created);
    let mut again = request(&["service-a", "service-b"], "1.0.0");
    again.created_by = "someone-else".into();
    again.time = "2026-12-07T10:00:00Z".into();
    let second = store.create(&again, &known()).unwrap();
    assert!(!second.created);
    assert_eq!(second.package, first.package);
    assert_eq!(second.package.created_by, "release-bot");
    // The id is the SHA-256 of the canonical JSON of the content.
    let canonical = serde_json_canonicalizer::to_vec(&first.package.content).unwrap();
    let digest = sha2_hex(&canonical);
    assert_eq!(first.package.id, digest);
    // Another version is another package.
    let other = store
        .create(&request(&["service-a", "service-b"], "1.0.1"), &known())
        .unwrap();
    assert_ne!(other.package.id, first.package.id);
    assert_eq!(store.list().unwrap().packages.len(), 2);
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_service_may_have_its_own_version_and_unknown_ones_get_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let store = PackageStore::new(home.path());
    let made = store
        .create(
            &request(&["service-a@2.0.0", "service-c"], "1.0.0"),
            &known(),
        )
        .unwrap();
    assert_eq!(made.package.content.version_of("service-a"), Some("2.0.0"));
    assert_eq!(made.package.content.version_of("service-c"), Some("1.0.0"));
    let e = store
        .create(&request(&["service-x"], "1.0.0"), &known())
        .unwrap_err();
    assert!(matches!(e, PackageError::UnknownService { .. }), "{e}");
    assert!(e.to_string().contains("(did you mean `service-"), "{e}");
    let e = store
        .create(&request(&["service-a", "service-a@2"], "1.0.0"), &known())
        .unwrap_err();
    assert!(matches!(e, PackageError::DuplicateService(_)), "{e}");
    let e = store
        .create(&request(&["service-a"], "../1"), &known())
        .unwrap_err();
    assert!(matches!(e, PackageError::BadVersion(_)), "{e}");
    let e = store.create(&request(&[], "1"), &known()).unwrap_err();
    assert!(matches!(e, PackageError::NoServices), "{e}");
}

#[test]
fn a_changed_package_file_is_refused_and_never_rewritten() {
    let home = tempfile::tempdir().unwrap();
    let store = PackageStore::new(home.path());
    let made = store
        .create(&request(&["service-a"], "1.0.0"), &known())
        .unwrap();
    let path = home.path().join(format!("{}.json", made.package.id));
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = text.replace("\"1.0.0\"", "\"6.6.6\"");
    std::fs::write(&path, &changed).unwrap();
    let e = store.get(&made.package.id).unwrap_err();
    assert!(matches!(e, PackageError::Damaged { .. }), "{e}");
    assert!(e.to_string().contains("was changed"), "{e}");
    // Creating it again does not paper over the damage.
    let e = store
        .create(&request(&["service-a"], "1.0.0"), &known())
        .unwrap_err();
    assert!(matches!(e, PackageError::Damaged { .. }), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), changed);
}

#[test]
fn packages_are_found_by_a_unique_prefix() {
    let home = tempfile::tempdir().unwrap();
    let store = PackageStore::new(home.path());
    let made = store
        .create(&request(&["service-a"], "1.0.0"), &known())
        .unwrap();
    let id = &made.package.id;
    assert_eq!(store.get(&id[..8]).unwrap().id, *id);
    assert_eq!(store.get(&format!("sha256:{id}")).unwrap().id, *id);
    assert!(matches!(store.get("abc"), Err(PackageError::BadId(_))));
    assert!(matches!(
        store.get("../../etc/passwd"),
        Err(PackageError::BadId(_))
    ));
    assert!(matches!(
        store.get("00000000"),
        Err(PackageError::NotFound(_))
    ));
}

#[test]
fn concurrent_creators_of_one_package_leave_one_file() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().to_path_buf();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut r = request(&["service-a", "service-b"], "3.0.0");
                r.created_by = format!("creator-{i}");
                PackageStore::new(dir).create(&r, &known()).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(reports.iter().filter(|r| r.created).count(), 1);
    let creator = &reports[0].package.created_by;
    assert!(reports.iter().all(|r| &r.package.created_by == creator));
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

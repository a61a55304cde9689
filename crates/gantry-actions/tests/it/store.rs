//! Adding actions to the store and finding them again.

use std::path::Path;

use gantry_actions::{ActionStore, ActionsError, RemoteUses, Source};

use crate::common::{bare, commit, git, repo, write};

const ACTION: &str = "name: greet\nruns:\n  using: node20\n  main: index.js\n";

fn uses(text: &str) -> RemoteUses {
    RemoteUses::parse_remote(text).unwrap()
}

fn path(p: &Path) -> Source {
    Source::Path(p.to_path_buf())
}

/// Nothing half-written is left where trees are staged.
fn no_leftovers(store: &ActionStore) {
    let tmp = store.root().join(".tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_tag_a_branch_and_a_sha_resolve_to_the_commit_and_share_its_tree() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("greet");
    let first = repo(&src, &[("action.yml", ACTION), ("index.js", "// v1\n")]);
    git(&src, &["tag", "v1"]);
    write(&src, &[("index.js", "// v2\n")]);
    let second = commit(&src, "two");
    let store = ActionStore::new(dir.path().join("actions"));

    let tag = store.add(&uses("Acme/Greet@v1"), &path(&src)).unwrap();
    assert_eq!(tag.commit.as_deref(), Some(first.as_str()));
    assert_eq!(tag.key, first);
    assert!(tag.new_tree);
    let branch = store.add(&uses("acme/greet@main"), &path(&src)).unwrap();
    assert_eq!(branch.key, second);
    // The commit the tag names, asked by its SHA, is the same tree.
    let sha = store
        .add(&uses(&format!("acme/greet@{first}")), &path(&src))
        .unwrap();
    assert_eq!(sha.key, first);
    assert!(!sha.new_tree);
    no_leftovers(&store);

    // A moved tag changes nothing already stored: the tree is the old commit's.
    let v1 = store.resolve(&uses("acme/greet@v1")).unwrap().unwrap();
    assert_eq!(
        std::fs::read_to_string(v1.dir.join("index.js")).unwrap(),
        "// v1\n"
    );
    assert!(!v1.dir.join(".git").exists());
    let main = store.resolve(&uses("ACME/greet@main")).unwrap().unwrap();
    assert_eq!(
        std::fs::read_to_string(main.dir.join("index.js")).unwrap(),
        "// v2\n"
    );
    // A SHA the store has a tree for resolves without a ref of that name.
    let by_sha = store
        .resolve(&uses(&format!("acme/greet@{second}")))
        .unwrap()
        .unwrap();
    assert_eq!(by_sha.key, second);
    assert_eq!(store.resolve(&uses("acme/greet@v9")).unwrap(), None);
    assert_eq!(store.resolve(&uses("other/greet@v1")).unwrap(), None);

    let list = store.list().unwrap();
    let refs: Vec<String> = list
        .iter()
        .map(|e| format!("{}/{}@{}", e.owner, e.repo, e.reference))
        .collect();
    assert_eq!(
        refs,
        [
            format!("acme/greet@{first}"),
            "acme/greet@main".to_string(),
            "acme/greet@v1".to_string(),
        ]
    );
}

#[test]
fn a_sha_must_be_a_commit_of_the_repository_and_an_unknown_ref_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("greet");
    repo(&src, &[("action.yml", ACTION)]);
    let store = ActionStore::new(dir.path().join("actions"));
    let absent = "0123456789abcdef0123456789abcdef01234567";
    let e = store
        .add(&uses(&format!("acme/greet@{absent}")), &path(&src))
        .unwrap_err();
    assert!(matches!(e, ActionsError::NoSuchCommit { .. }), "{e}");
    assert!(e.to_string().contains(absent), "{e}");
    let e = store.add(&uses("acme/greet@v9"), &path(&src)).unwrap_err();
    assert!(matches!(e, ActionsError::UnknownRef { .. }), "{e}");
    assert!(e.to_string().contains("`v9`"), "{e}");
    assert!(e.hint().unwrap().contains("full 40-digit commit SHA"));
    let e = store
        .add(&uses("acme/greet@v1"), &path(&dir.path().join("nowhere")))
        .unwrap_err();
    assert!(matches!(e, ActionsError::NoSource { .. }), "{e}");
    assert!(store.list().unwrap().is_empty());
    no_leftovers(&store);
}

#[test]
fn a_url_is_cloned_and_a_failed_fetch_says_how_to_add_without_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("greet");
    let head = repo(&src, &[("action.yml", ACTION)]);
    git(&src, &["tag", "v1"]);
    let mirror = dir.path().join("mirror");
    bare(&src, &mirror.join("acme/greet.git"));
    let store = ActionStore::new(dir.path().join("actions"));

    let url = format!("file://{}", mirror.join("acme/greet.git").display());
    let added = store
        .add(&uses("acme/greet@v1"), &Source::from_arg(&url))
        .unwrap();
    assert_eq!(added.commit.as_deref(), Some(head.as_str()));
    assert_eq!(added.source, url);

    // The mirror as a folder: OWNER/REPO.git under it.
    let source = Source::default_for(
        &uses("acme/greet@main"),
        Some(&mirror.display().to_string()),
    );
    assert_eq!(source, Source::Path(mirror.join("acme/greet.git")));
    assert_eq!(
        store.add(&uses("acme/greet@main"), &source).unwrap().key,
        head
    );

    // No network: a refused connection (127.0.0.1, port 1) is a fetch error.
    let offline = Source::default_for(&uses("acme/other@v1"), Some("http://127.0.0.1:1/mirror"));
    assert_eq!(
        offline,
        Source::Url("http://127.0.0.1:1/mirror/acme/other.git".into())
    );
    let e = store.add(&uses("acme/other@v1"), &offline).unwrap_err();
    assert!(matches!(e, ActionsError::Fetch { .. }), "{e}");
    assert!(
        e.to_string().starts_with(
            "failed to fetch acme/other from http://127.0.0.1:1/mirror/acme/other.git"
        ),
        "{e}"
    );
    assert!(e.hint().unwrap().contains("--from PATH"), "{:?}", e.hint());
    // Without a mirror, GitHub.
    assert_eq!(
        Source::default_for(&uses("docker/setup-buildx-action@v3"), None),
        Source::Url("https://github.com/docker/setup-buildx-action".into())
    );
    no_leftovers(&store);
}

#[test]
fn fetch_adds_what_is_missing_once_and_reports_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("greet");
    repo(&src, &[("action.yml", ACTION)]);
    git(&src, &["tag", "v1"]);
    let mirror = dir.path().join("mirror");
    bare(&src, &mirror.join("acme/greet.git"));
    let store = ActionStore::new(dir.path().join("actions"));
    let mirror = mirror.display().to_string();
    let wanted = [
        uses("acme/greet@v1"),
        uses("acme/greet/sub@v1"),
        uses("acme/missing@v1"),
    ];
    let report = store.fetch(&wanted, Some(&mirror));
    assert_eq!(report.version, 1);
    assert_eq!(report.added.len(), 1, "{report:?}");
    assert_eq!(report.added[0].action, "acme/greet@v1");
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].action, "acme/missing@v1");
    let again = store.fetch(&wanted[..1], Some(&mirror));
    assert_eq!(again.present, ["acme/greet@v1"]);
    assert!(again.added.is_empty());
}

#[test]
fn a_folder_is_keyed_by_its_content_and_sub_paths_stay_inside() {
    let dir = tempfile::tempdir().unwrap();
    let vendored = dir.path().join("vendor/tools");
    write(
        &vendored,
        &[
            (
                "hello/action.yml",
                "name: hello\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n",
            ),
            ("hello/run.sh", "echo run\n"),
            ("hello/dist/index.js", "// bundled\n"),
        ],
    );
    std::os::unix::fs::symlink("run.sh", vendored.join("hello/again.sh")).unwrap();
    let store = ActionStore::new(dir.path().join("actions"));
    let added = store.add(&uses("acme/tools@v2"), &path(&vendored)).unwrap();
    assert!(added.key.starts_with("sha256-"), "{}", added.key);
    assert_eq!(added.key.len(), "sha256-".len() + 64);
    assert_eq!(added.commit, None);
    // The same content under another ref is the same tree; a change is another.
    let same = store
        .add(&uses("acme/tools@v2.0.0"), &path(&vendored))
        .unwrap();
    assert_eq!(same.key, added.key);
    assert!(!same.new_tree);
    write(&vendored, &[("hello/run.sh", "echo changed\n")]);
    let changed = store.add(&uses("acme/tools@v3"), &path(&vendored)).unwrap();
    assert_ne!(changed.key, added.key);

    let hello = store
        .resolve(&uses("acme/tools/hello@v2"))
        .unwrap()
        .unwrap();
    assert!(hello.dir.join("action.yml").is_file());
    assert_eq!(
        std::fs::read_link(hello.dir.join("again.sh")).unwrap(),
        Path::new("run.sh")
    );
    assert!(hello.dir.join("dist/index.js").is_file());
    // The action's metadata is there for `validate`.
    assert_eq!(
        store
            .action(&uses("acme/tools/hello@v2"))
            .unwrap()
            .name
            .as_ref()
            .unwrap()
            .value,
        "hello"
    );
    no_leftovers(&store);
}

#[test]
fn a_folder_with_a_link_out_of_it_or_a_fifo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ActionStore::new(dir.path().join("actions"));
    let linked = dir.path().join("linked");
    write(&linked, &[("action.yml", ACTION)]);
    std::os::unix::fs::symlink("../../etc/passwd", linked.join("index.js")).unwrap();
    let e = store
        .add(&uses("acme/linked@v1"), &path(&linked))
        .unwrap_err();
    assert!(matches!(e, ActionsError::LinkOutside { .. }), "{e}");
    let fifo = dir.path().join("fifo");
    write(&fifo, &[("action.yml", ACTION)]);
    nix_mkfifo(&fifo.join("pipe"));
    let e = store.add(&uses("acme/fifo@v1"), &path(&fifo)).unwrap_err();
    assert!(matches!(e, ActionsError::NotAFile { .. }), "{e}");
    assert!(store.list().unwrap().is_empty());
    no_leftovers(&store);
}

fn nix_mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn a_corrupt_index_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = ActionStore::new(dir.path().join("actions"));
    write(store.root(), &[("acme/greet/refs.json", "{not json")]);
    let e = store.resolve(&uses("acme/greet@v1")).unwrap_err();
    assert!(e.to_string().contains("refs.json"), "{e}");
    assert!(e.hint().is_some());
    assert!(store.list().is_err());
}

//! Property tests: every lockfile parser and the SBOM reader return
//! components and warnings for any input, mangled fixtures included, and
//! never panic.

use std::path::Path;

use gantry_sbom::parse_text;
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "requirements.txt",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "go.mod",
    "Gemfile.lock",
    "composer.lock",
    "packages.lock.json",
    "gradle.lockfile",
    "pom.xml",
];

/// The fixture text of each format, to mangle.
fn fixture(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let candidates = [
        root.join("monorepo").join(name),
        root.join("monorepo/web").join(name),
        root.join("monorepo/ml").join(name),
        root.join("monorepo/services/api").join(name),
        root.join("monorepo/tools/docs").join(name),
    ];
    for c in candidates {
        if let Ok(t) = std::fs::read_to_string(c) {
            return t;
        }
    }
    for dir in std::fs::read_dir(root.join("formats")).unwrap().flatten() {
        if let Ok(t) = std::fs::read_to_string(dir.path().join(name)) {
            return t;
        }
    }
    String::new()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_text_never_panics(index in 0..NAMES.len(), text in ".{0,400}") {
        let name = NAMES[index];
        let _ = parse_text(Path::new(name), name, &text);
    }

    #[test]
    fn mangled_fixtures_never_panic(index in 0..NAMES.len(), cut in 0usize..4000, insert in ".{0,12}") {
        let name = NAMES[index];
        let text = fixture(name);
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mangled = format!("{}{}{}", &text[..at], insert, &text[at..]);
        let truncated = &text[..at];
        let _ = parse_text(Path::new(name), name, &mangled);
        let _ = parse_text(Path::new(name), name, truncated);
    }

    #[test]
    fn sbom_reader_never_panics(text in ".{0,300}") {
        let _ = gantry_sbom::read::read_sbom("bom.json", &text);
        let _ = gantry_sbom::purl::Purl::parse(&text);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for name in [
        "package-lock.json",
        "composer.lock",
        "Pipfile.lock",
        "packages.lock.json",
    ] {
        let parsed = parse_text(Path::new(name), name, &deep).unwrap();
        assert!(!parsed.warnings.is_empty(), "{name}");
    }
    let yaml = format!(
        "lockfileVersion: '9.0'\npackages: {}{}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let parsed = parse_text(Path::new("pnpm-lock.yaml"), "pnpm-lock.yaml", &yaml).unwrap();
    assert!(!parsed.warnings.is_empty());
    let xml = format!("<project>{}", "<a>".repeat(100_000));
    let parsed = parse_text(Path::new("pom.xml"), "pom.xml", &xml).unwrap();
    assert!(!parsed.warnings.is_empty());
    // A billion-laughs YAML is refused by the parser's budget.
    let mut bomb = String::from("lockfileVersion: '9.0'\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let parsed = parse_text(Path::new("pnpm-lock.yaml"), "pnpm-lock.yaml", &bomb).unwrap();
    assert!(!parsed.warnings.is_empty());
}

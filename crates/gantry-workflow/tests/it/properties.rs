//! Property tests: the readers never panic, and every diagnostic points
//! inside the file, whatever the input.

use gantry_workflow::{ReadOptions, SourceFile, read_action, read_workflow};
use proptest::prelude::*;
use proptest::sample::select;

const VALID: &str = "name: CI\non:\n  push:\n    branches: [main, 'release/**']\n  schedule:\n    - cron: '0 5 * * 1'\npermissions: { contents: read }\njobs:\n  build: &job\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        os: [a, b]\n        include: [{ os: c }]\n    steps:\n      - id: x\n        run: echo ${{ matrix.os }}\n      - if: ${{ success() && github.ref == 'refs/heads/main' }}\n        uses: actions/cache@v4\n        with: { key: \"${{ hashFiles('a') }}\" }\n  test:\n    <<: *job\n    needs: build\n";

fn check(text: &str) {
    let parsed = read_workflow(SourceFile::new("p.yml", text), &ReadOptions::default());
    for d in &parsed.diagnostics.diagnostics {
        if let Some(span) = d.span {
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{d:?} in {text:?}"
            );
            assert!(
                text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                "{d:?} in {text:?}"
            );
        }
    }
    let _ = read_action(SourceFile::new("action.yml", text), &ReadOptions::default());
}

/// Text made of the pieces workflows are made of.
fn yaml_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        select(vec![
            "on",
            "jobs",
            "steps",
            "runs-on",
            "needs",
            "if",
            "run",
            "uses",
            "with",
            "matrix",
            "strategy",
            "include",
            "exclude",
            "permissions",
            ":",
            ": ",
            "- ",
            "\n",
            "  ",
            "    ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "'",
            "\"",
            "&a",
            "*a",
            "<<",
            "!!str",
            "!!int",
            "|",
            ">-",
            "#",
            "${{",
            "}}",
            "github.ref",
            "x",
            "é",
            "\t",
            "~",
            "null",
            "1e3",
            "0x1F",
        ]),
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn token_soup_never_panics(text in yaml_like()) {
        check(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn mutated_workflows_never_panic(edits in prop::collection::vec((0..VALID.len(), select(vec!["", " ", "\n", ":", "-", "'", "${{", "}}", "&b", "*b", "[", "{"]), 0..4usize), 1..6)) {
        let mut text = VALID.to_string();
        for (at, insert, delete) in edits {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + delete).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(at..end, insert);
        }
        check(&text);
    }
}

#[test]
fn the_base_workflow_is_valid() {
    let parsed = read_workflow(SourceFile::new("p.yml", VALID), &ReadOptions::default());
    assert!(
        !parsed.has_errors(),
        "{:#?}",
        parsed.diagnostics.diagnostics
    );
}

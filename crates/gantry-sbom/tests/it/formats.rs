//! Every lockfile format over a hand-made fixture: each component's purl,
//! scope, direct flag and line, its edges, and the warnings.

use gantry_sbom::{DiscoverOptions, Inventory, inventory};

use crate::common::{copy_dir, fixtures};

/// One line per component: `purl scope direct/transitive file:line [-> deps]
/// [#hashes]`, then the warnings.
fn summary(inv: &Inventory) -> String {
    let mut out = String::new();
    for c in &inv.components {
        let version = if c.version.is_some() {
            String::new()
        } else {
            format!(" unpinned({})", c.requirement.as_deref().unwrap_or(""))
        };
        out.push_str(&format!(
            "{} {} {} {}{}",
            c.purl,
            c.scope.as_str(),
            if c.direct { "direct" } else { "transitive" },
            c.location,
            version
        ));
        if !c.hashes.is_empty() {
            out.push_str(&format!(" #{}", c.hashes.len()));
        }
        if !c.dependencies.is_empty() {
            out.push_str(&format!(" -> {}", c.dependencies.join(", ")));
        }
        out.push('\n');
    }
    for w in &inv.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}

fn check(folder: &str, expected: &str) {
    let inv = inventory(&fixtures().join(folder), &DiscoverOptions::default()).unwrap();
    let got = summary(&inv);
    if got.trim() != expected.trim() {
        panic!("{folder}: got\n{got}\nexpected\n{expected}");
    }
}

#[test]
fn cargo_v1() {
    check(
        "formats/cargo-v1",
        r"
pkg:cargo/bitflags@1.0.4 runtime direct Cargo.lock:1 #1
",
    );
}

#[test]
fn npm_v1() {
    check(
        "formats/npm-v1",
        r"
pkg:npm/debug@2.6.9 runtime transitive package-lock.json:7 #1 -> pkg:npm/ms@2.0.0
pkg:npm/express@4.16.0 runtime direct package-lock.json:15 #1 -> pkg:npm/debug@2.6.9, pkg:npm/ms@2.1.1
pkg:npm/mocha@5.2.0 dev direct package-lock.json:31 #1
pkg:npm/ms@2.0.0 runtime transitive package-lock.json:37 #1
pkg:npm/ms@2.1.1 runtime transitive package-lock.json:21 #1
pkg:npm/my-fork runtime direct package-lock.json:42 unpinned(github:example/my-fork#4f7a0c2d1b3e5a6c7d8e9f0a1b2c3d4e5f6a7b8c)
",
    );
}

#[test]
fn npm_v2() {
    check(
        "formats/npm-v2",
        r"
pkg:npm/loose-envify@1.4.0 runtime transitive npm-shrinkwrap.json:42 #1
pkg:npm/react@18.2.0 runtime direct npm-shrinkwrap.json:36 #1 -> pkg:npm/loose-envify@1.4.0
pkg:npm/string-width@4.2.3 runtime direct npm-shrinkwrap.json:22 #1
pkg:npm/typescript@4.9.5 dev direct npm-shrinkwrap.json:12 #1
warning: npm-shrinkwrap.json:46: `node_modules/broken` has no version
",
    );
}

#[test]
fn yarn_v1() {
    check(
        "formats/yarn-v1",
        r"
pkg:npm/%40babel/code-frame@7.12.13 dev direct yarn.lock:5 #1 -> pkg:npm/%40babel/highlight@7.13.10
pkg:npm/%40babel/highlight@7.13.10 dev transitive yarn.lock:12 #1 -> pkg:npm/js-tokens@4.0.0
pkg:npm/js-tokens@4.0.0 dev transitive yarn.lock:19 #1
pkg:npm/lodash@4.17.20 runtime direct yarn.lock:24 #1
",
    );
}

#[test]
fn yarn_berry() {
    check(
        "formats/yarn-berry",
        r"
pkg:npm/lodash@4.17.21 runtime direct yarn.lock:17 #1
pkg:npm/typescript@5.4.5 dev direct yarn.lock:24 #1
",
    );
}

#[test]
fn pnpm_v5() {
    check(
        "formats/pnpm-v5",
        r"
pkg:npm/eslint@8.0.0 dev direct pnpm-lock.yaml:33 #1
pkg:npm/js-tokens@4.0.0 runtime transitive pnpm-lock.yaml:15 #1
pkg:npm/loose-envify@1.4.0 runtime transitive pnpm-lock.yaml:19 #1 -> pkg:npm/js-tokens@4.0.0
pkg:npm/react@17.0.2 runtime direct pnpm-lock.yaml:26 #1 -> pkg:npm/loose-envify@1.4.0
",
    );
}

#[test]
fn pnpm_v6() {
    check(
        "formats/pnpm-v6",
        r"
pkg:npm/js-tokens@4.0.0 runtime transitive pnpm-lock.yaml:34 #1
pkg:npm/loose-envify@1.4.0 runtime transitive pnpm-lock.yaml:27 #1 -> pkg:npm/js-tokens@4.0.0
pkg:npm/react@18.2.0 runtime transitive pnpm-lock.yaml:38 #1 -> pkg:npm/loose-envify@1.4.0
pkg:npm/react-dom@18.2.0 runtime direct pnpm-lock.yaml:45 #1 -> pkg:npm/loose-envify@1.4.0, pkg:npm/react@18.2.0
pkg:npm/vitest@0.34.6 dev direct pnpm-lock.yaml:54 #1
",
    );
}

#[test]
fn pnpm_v9() {
    check(
        "formats/pnpm-v9",
        r"
pkg:npm/%40types/node@20.14.2 runtime direct pnpm-lock.yaml:24 #1 -> pkg:npm/undici-types@5.26.5
pkg:npm/string-width@4.2.3 runtime direct pnpm-lock.yaml:27 #1
pkg:npm/typescript@5.4.5 dev direct pnpm-lock.yaml:31 #1
pkg:npm/undici-types@5.26.5 runtime transitive pnpm-lock.yaml:36 #1
",
    );
}

#[test]
fn pipfile() {
    check(
        "formats/pipfile",
        r"
pkg:pypi/asgiref@3.4.1 runtime transitive Pipfile.lock:19 #1
pkg:pypi/black@21.5b0 dev direct Pipfile.lock:39 #1
pkg:pypi/django@3.2.0 runtime direct Pipfile.lock:26 #1
pkg:pypi/mylib runtime direct Pipfile.lock:33 unpinned(path: ./mylib)
",
    );
}

#[test]
fn uv() {
    check(
        "formats/uv",
        r"
pkg:pypi/certifi@2024.6.2 runtime transitive uv.lock:4 #2
pkg:pypi/httpx@0.27.0 runtime direct uv.lock:13 #1 -> pkg:pypi/certifi@2024.6.2, pkg:pypi/idna@3.7
pkg:pypi/idna@3.7 runtime transitive uv.lock:23 #1
pkg:pypi/ruff@0.4.8 dev direct uv.lock:29 #1
",
    );
}

#[test]
fn gem() {
    check(
        "formats/gem",
        r"
pkg:gem/mini_portile2@2.8.0 runtime transitive Gemfile.lock:11
pkg:gem/nokogiri@1.13.3 runtime direct Gemfile.lock:12 -> pkg:gem/racc@1.6.0
pkg:gem/private-gem@0.4.0 runtime direct Gemfile.lock:5 -> pkg:gem/rack@2.2.3
pkg:gem/racc@1.6.0 runtime transitive Gemfile.lock:14
pkg:gem/rack@2.2.3 runtime transitive Gemfile.lock:15
pkg:gem/rails-html-sanitizer@1.4.2 runtime direct Gemfile.lock:16 -> pkg:gem/nokogiri@1.13.3
",
    );
}

#[test]
fn composer() {
    check(
        "formats/composer",
        r"
pkg:composer/acme/internal runtime direct composer.lock:40 unpinned(dev-main)
pkg:composer/guzzlehttp/guzzle@7.4.1 runtime direct composer.lock:8 -> pkg:composer/guzzlehttp/psr7@2.1.0
pkg:composer/guzzlehttp/psr7@2.1.0 runtime transitive composer.lock:28
pkg:composer/phpunit/phpunit@9.5.10 dev direct composer.lock:51 #1
",
    );
}

#[test]
fn nuget() {
    check(
        "formats/nuget",
        r"
pkg:nuget/Newtonsoft.Json@12.0.1 runtime direct packages.lock.json:5 #1 -> pkg:nuget/System.Runtime@4.3.0
pkg:nuget/System.Runtime@4.3.0 runtime transitive packages.lock.json:11 #1
",
    );
}

#[test]
fn gradle() {
    check(
        "formats/gradle",
        r"
pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.8 runtime transitive gradle.lockfile:4
pkg:maven/com.google.guava/guava@31.1-jre runtime transitive gradle.lockfile:5
pkg:maven/junit/junit@4.12 dev transitive gradle.lockfile:6
pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 runtime transitive gradle.lockfile:7
",
    );
}

#[test]
fn maven() {
    check(
        "formats/maven",
        r"
pkg:maven/com.example/orders-api@1.4.0 runtime direct pom.xml:40
pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.8 runtime direct pom.xml:26
pkg:maven/commons-io/commons-io runtime direct pom.xml:45 unpinned([2.7,3.0))
pkg:maven/junit/junit@4.13.2 dev direct pom.xml:50
pkg:maven/org.slf4j/slf4j-api optional direct pom.xml:56 unpinned(${slf4j.version})
pkg:maven/org.springframework/spring-core@5.3.18 runtime direct pom.xml:31
pkg:maven/org.yaml/snakeyaml@1.33 runtime direct pom.xml:36
",
    );
}

#[test]
fn monorepo() {
    check(
        "monorepo",
        r"
pkg:cargo/aho-corasick@0.7.20 runtime transitive Cargo.lock:5 #1 -> pkg:cargo/memchr@2.5.0
pkg:cargo/libc@0.2.139 runtime transitive Cargo.lock:69 #1
pkg:cargo/memchr@2.5.0 runtime transitive Cargo.lock:14 #1
pkg:cargo/regex@1.5.4 runtime direct Cargo.lock:30 #1 -> pkg:cargo/aho-corasick@0.7.20, pkg:cargo/memchr@2.5.0, pkg:cargo/regex-syntax@0.6.29
pkg:cargo/regex-syntax@0.6.29 runtime transitive Cargo.lock:41 #1
pkg:cargo/serde@1.0.188 runtime direct Cargo.lock:47 #1
pkg:cargo/smallvec@0.6.9 runtime direct Cargo.lock:53 #1
pkg:cargo/time@0.1.43 runtime direct Cargo.lock:59 #1 -> pkg:cargo/libc@0.2.139, pkg:cargo/winapi@0.3.9
pkg:cargo/winapi@0.3.9 runtime transitive Cargo.lock:75 #1
pkg:npm/%40babel/runtime@7.20.13 runtime direct web/package-lock.json:21 #1 -> pkg:npm/regenerator-runtime@0.13.11
pkg:npm/fsevents@2.3.2 optional direct web/package-lock.json:32 #1
pkg:npm/lodash@4.17.15 runtime direct web/package-lock.json:42 #1
pkg:npm/minimist@1.2.5 dev direct web/package-lock.json:47 #1
pkg:npm/regenerator-runtime@0.13.11 runtime transitive web/package-lock.json:53 #1
pkg:pypi/featurestore runtime direct ml/requirements.txt:12 unpinned(-e git+https://github.com/example/featurestore.git#egg=featurestore)
pkg:pypi/idna@3.7 runtime direct ml/common/base.in:2
pkg:pypi/jinja2@2.10.1 runtime direct ml/requirements.txt:8
pkg:pypi/jinja2@3.1.4 runtime direct tools/docs/poetry.lock:13 #1 -> pkg:pypi/markupsafe@2.1.5
pkg:pypi/markupsafe@2.1.5 runtime transitive tools/docs/poetry.lock:3 #1
pkg:pypi/numpy@1.21.0 runtime direct ml/requirements.txt:11
pkg:pypi/py@1.11.0 runtime direct ml/requirements.txt:10
pkg:pypi/pytest@8.2.2 dev direct tools/docs/poetry.lock:26 #1
pkg:pypi/pyyaml@5.1 runtime direct ml/requirements.txt:6 #1
pkg:pypi/requests runtime direct ml/requirements.txt:9 unpinned(>=2.25,<3)
pkg:pypi/urllib3@1.26.18 runtime direct ml/common/base.in:1
pkg:golang/github.com/burntsushi/toml@v1.2.1 runtime transitive services/api/go.mod:15 #1
pkg:golang/github.com/gin-gonic/gin@v1.9.1 runtime direct services/api/go.mod:8 #1
pkg:golang/github.com/miekg/dns@v1.0.3 runtime transitive services/api/go.mod:13 #1
pkg:golang/golang.org/x/net@v0.0.0-20200226121028-0de0cce0169b runtime transitive services/api/go.mod:14 #1
pkg:golang/golang.org/x/text@v0.3.5 runtime direct services/api/go.mod:9 #1
pkg:golang/stdlib@v1.20.4 runtime direct services/api/go.mod:5
",
    );
}

#[test]
fn respects_gitignore_and_skips_vendored_folders_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("monorepo"), dir.path());
    std::fs::create_dir_all(dir.path().join("build")).unwrap();
    std::fs::write(
        dir.path().join("build/Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"ignored\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let files = |options: &DiscoverOptions| -> Vec<String> {
        gantry_sbom::discover(dir.path(), options)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect()
    };
    let default = files(&DiscoverOptions::default());
    assert_eq!(
        default,
        [
            "Cargo.lock",
            "ml/requirements.txt",
            "services/api/go.mod",
            "tools/docs/poetry.lock",
            "web/package-lock.json"
        ]
    );
    let vendored = files(&DiscoverOptions {
        include_vendored: true,
        ..DiscoverOptions::default()
    });
    assert!(vendored.contains(&"web/node_modules/left-pad/package-lock.json".to_string()));
    assert!(!vendored.contains(&"build/Cargo.lock".to_string()));
    let unignored = files(&DiscoverOptions {
        no_ignore: true,
        ..DiscoverOptions::default()
    });
    assert!(unignored.contains(&"build/Cargo.lock".to_string()));
}

/// Malformed files of every format: a warning naming the file and line,
/// never a panic, and what could be read is kept.
#[test]
fn malformed_lockfiles_are_warnings_with_file_and_line() {
    let cases: &[(&str, &str, Option<usize>)] = &[
        (
            "Cargo.lock",
            "version = 3\n\n[[package]]\nname = \"a\"\nversion = \n",
            Some(5),
        ),
        (
            "package-lock.json",
            "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\"version\": \"1.0.0\",}\n",
            Some(4),
        ),
        (
            "yarn.lock",
            "# yarn lockfile v1\n\nleft-pad@^1.0.0\n  version \"1.3.0\"\n",
            Some(3),
        ),
        (
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [unclosed\n",
            Some(3),
        ),
        (
            "requirements.txt",
            "flask==2.0.1\nrequests ^^ 2\n-r missing.txt\n",
            Some(2),
        ),
        (
            "poetry.lock",
            "[[package]]\nname = \"x\"\nversion = [\n",
            Some(3),
        ),
        (
            "Pipfile.lock",
            "{\"default\": {\"x\": {\"version\": \"==1\"}}, ]",
            Some(1),
        ),
        (
            "uv.lock",
            "version = 1\n[[package]]\nname = \"x\"\nversion = \"1\"\nsource = 5\n",
            Some(5),
        ),
        (
            "go.mod",
            "module x\n\nrequire github.com/a/b\nfrobnicate x\n",
            Some(3),
        ),
        ("Gemfile.lock", "GEM\n  specs:\n    broken\n", Some(3)),
        (
            "composer.lock",
            "{\"packages\": [{\"name\": \"a/b\"}]}",
            Some(1),
        ),
        ("packages.lock.json", "[1, 2]", Some(1)),
        (
            "gradle.lockfile",
            "com.example:only-two=runtimeClasspath\n",
            Some(1),
        ),
        (
            "pom.xml",
            "<project>\n  <dependencies>\n    <dependency><groupId>a</groupId></dependency>\n  </dependencies>\n</project>\n",
            Some(3),
        ),
        (
            "pom.xml",
            "<project>\n  <dependencies>\n  </project>\n",
            Some(3),
        ),
    ];
    for (name, text, line) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let inv = inventory(&path, &DiscoverOptions::default()).unwrap();
        assert!(!inv.warnings.is_empty(), "{name}: no warning for {text:?}");
        let w = &inv.warnings[0];
        assert_eq!(&w.file, name);
        assert_eq!(w.line, *line, "{name}: {w}");
    }
}

#[test]
fn requirements_follow_includes_once_and_pin_through_constraints() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "-r requirements.txt\n-r more.in\n-c pins.txt\nDjango\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("more.in"),
        "-r requirements.txt\nWerkzeug==2.0.0\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pins.txt"), "django==3.2.0\n").unwrap();
    let inv = inventory(
        &dir.path().join("requirements.txt"),
        &DiscoverOptions::default(),
    )
    .unwrap();
    let purls: Vec<&str> = inv.components.iter().map(|c| c.purl.as_str()).collect();
    assert_eq!(purls, ["pkg:pypi/django@3.2.0", "pkg:pypi/werkzeug@2.0.0"]);
    assert_eq!(inv.components[1].location.to_string(), "more.in:2");
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn pip_compile_output_has_edges_and_transitive_packages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "#\n# This file is autogenerated by pip-compile with Python 3.11\n#\nclick==8.1.7\n    # via flask\nflask==3.0.3\n    # via -r requirements.in\nitsdangerous==2.2.0\n    # via\n    #   flask\n    #   -r requirements.in\n",
    )
    .unwrap();
    let inv = inventory(
        &dir.path().join("requirements.txt"),
        &DiscoverOptions::default(),
    )
    .unwrap();
    let got = summary(&inv);
    assert_eq!(
        got,
        "pkg:pypi/click@8.1.7 runtime transitive requirements.txt:4\n\
         pkg:pypi/flask@3.0.3 runtime direct requirements.txt:6 -> pkg:pypi/click@8.1.7, pkg:pypi/itsdangerous@2.2.0\n\
         pkg:pypi/itsdangerous@2.2.0 runtime direct requirements.txt:8\n"
    );
}

//! pip requirements files (`requirements*.txt`, `*requirements.txt`):
//! `==` pins with `--hash`es, extras and environment markers, `-r`
//! includes and `-c` constraints. Ranges, bare names, URLs, paths and
//! editable installs are reported as unpinned, never dropped.
//! `pip-compile`'s `# via` comments give the dependency edges.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{Input, LockfileFormat, Parsed, file_name};
use crate::model::{Component, Ecosystem, Hash, Scope, pep503};

pub(crate) struct Requirements;

/// Includes nested deeper than this are reported, not followed.
const MAX_INCLUDE_DEPTH: usize = 16;

impl LockfileFormat for Requirements {
    fn name(&self) -> &'static str {
        "requirements*.txt"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::PyPI
    }

    fn matches(&self, path: &Path) -> bool {
        let name = file_name(path);
        name.ends_with(".txt")
            && (name.starts_with("requirements") || name.ends_with("requirements.txt"))
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let scope = scope_of_file(file_name(input.path));
        let mut state = State {
            seen: HashSet::new(),
            constraints: HashMap::new(),
            via: Vec::new(),
        };
        let mut components = Vec::new();
        read_file(input, scope, &mut state, &mut components, out, 0, false);
        // Constraints pin what the requirements leave open.
        for c in &mut components {
            if c.version.is_none()
                && let Some((version, at)) = state.constraints.get(&c.name)
            {
                let mut pinned =
                    Component::new(Ecosystem::PyPI, &c.name, Some(version), c.location.clone());
                pinned.scope = c.scope;
                pinned.direct = c.direct;
                pinned.hashes = std::mem::take(&mut c.hashes);
                pinned.properties = std::mem::take(&mut c.properties);
                pinned.properties.push(("constraint".into(), at.clone()));
                if let Some(req) = &c.requirement {
                    pinned.properties.push(("requirement".into(), req.clone()));
                }
                *c = pinned;
            }
        }
        // `# via` edges: the named packages depend on this one.
        let purls: HashMap<String, String> = components
            .iter()
            .map(|c| (c.name.clone(), c.purl.clone()))
            .collect();
        let mut any_via = false;
        for (child, parents) in &state.via {
            for parent in parents {
                if parent.starts_with('-') {
                    continue;
                }
                any_via = true;
                if let (Some(child_purl), Some(parent_c)) = (
                    purls.get(child),
                    components.iter_mut().find(|c| &c.name == parent),
                ) {
                    parent_c.dependencies.push(child_purl.clone());
                }
            }
        }
        if any_via {
            // A compiled file: only what `-r`/`-c` files asked for (or
            // what has no `# via`) is direct.
            let transitive: HashSet<&String> = state
                .via
                .iter()
                .filter(|(_, parents)| {
                    !parents.is_empty() && parents.iter().all(|p| !p.starts_with('-'))
                })
                .map(|(child, _)| child)
                .collect();
            for c in &mut components {
                if transitive.contains(&c.name) {
                    c.direct = false;
                }
            }
        }
        out.components.extend(components);
    }
}

/// Dev scope for files whose names say so (`requirements-dev.txt`,
/// `test-requirements.txt`), runtime otherwise.
fn scope_of_file(name: &str) -> Scope {
    let lower = name.to_ascii_lowercase();
    if ["dev", "test", "lint", "doc", "ci"].iter().any(|w| {
        lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|part| part == *w)
    }) {
        Scope::Dev
    } else {
        Scope::Runtime
    }
}

struct State {
    /// Files already read (include cycles).
    seen: HashSet<PathBuf>,
    /// name -> (pinned version, where).
    constraints: HashMap<String, (String, String)>,
    /// (package, the packages it is "via").
    via: Vec<(String, Vec<String>)>,
}

/// Logical lines: `\` continuations joined, with the first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        if let Some(stripped) = raw.strip_suffix('\\') {
            current.push_str(stripped);
            current.push(' ');
            continue;
        }
        current.push_str(raw);
        out.push((start, std::mem::take(&mut current)));
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

/// Removes a ` #` comment (a `#` at the start or after whitespace).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

#[allow(clippy::too_many_arguments)]
fn read_file(
    input: &Input<'_>,
    scope: Scope,
    state: &mut State,
    components: &mut Vec<Component>,
    out: &mut Parsed,
    depth: usize,
    constraints_only: bool,
) {
    let canonical = input
        .path
        .canonicalize()
        .unwrap_or_else(|_| input.path.to_path_buf());
    if !state.seen.insert(canonical) {
        return;
    }
    let mut last_package: Option<String> = None;
    let mut via_block = false;
    for (line_no, line) in logical_lines(input.text) {
        let trimmed = line.trim();
        // pip-compile annotations.
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if let Some(rest) = comment.strip_prefix("via") {
                via_block = false;
                if let Some(pkg) = &last_package {
                    let rest = rest.trim();
                    if rest.is_empty() {
                        via_block = true;
                        state.via.push((pkg.clone(), Vec::new()));
                    } else {
                        state.via.push((pkg.clone(), vec![via_name(rest)]));
                    }
                }
            } else if via_block && !comment.is_empty() {
                if let Some((_, parents)) = state.via.last_mut() {
                    parents.push(via_name(comment));
                }
            } else {
                via_block = false;
            }
            continue;
        }
        via_block = false;
        let content = strip_comment(&line).trim().to_string();
        if content.is_empty() {
            continue;
        }
        let at = input.at(line_no);
        // Options.
        if let Some((option, value)) = split_option(&content) {
            match option {
                "-r" | "--requirement" | "-c" | "--constraint" => {
                    let constraint = matches!(option, "-c" | "--constraint");
                    include(
                        input,
                        value,
                        scope,
                        state,
                        components,
                        out,
                        depth,
                        line_no,
                        constraint || constraints_only,
                    );
                }
                "-e" | "--editable" => {
                    let name = egg_name(value).unwrap_or_else(|| value.to_string());
                    let mut c =
                        Component::unpinned(Ecosystem::PyPI, &name, &format!("-e {value}"), at)
                            .with_scope(scope)
                            .with_direct(true);
                    c = c.with_property("editable", value);
                    last_package = Some(c.name.clone());
                    components.push(c);
                }
                "-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links"
                | "--no-index" | "--pre" | "--prefer-binary" | "--only-binary" | "--no-binary"
                | "--trusted-host" | "--use-feature" | "--require-hashes" | "-Z"
                | "--always-unzip" | "--config-settings" => {}
                other => out.warn(
                    input,
                    Some(line_no),
                    format!("unknown option `{other}` ignored"),
                ),
            }
            continue;
        }
        match parse_requirement(&content) {
            Ok(req) => {
                if constraints_only {
                    if let Some(v) = req.pinned {
                        state
                            .constraints
                            .insert(req.name.clone(), (v, at.to_string()));
                    }
                    continue;
                }
                let mut c = match &req.pinned {
                    Some(v) => Component::new(Ecosystem::PyPI, &req.name, Some(v), at),
                    None => Component::unpinned(Ecosystem::PyPI, &req.name, &req.spec, at),
                };
                c.scope = scope;
                c.direct = true;
                if !req.extras.is_empty() {
                    c = c.with_property("extras", req.extras.join(","));
                }
                if let Some(m) = &req.marker {
                    c = c.with_property("markers", m.clone());
                }
                if let Some(u) = &req.url {
                    c = c.with_property("url", u.clone());
                }
                for h in &req.hashes {
                    match Hash::from_prefixed_hex(h) {
                        Some(h) => c.add_hash(h),
                        None => out.warn(input, Some(line_no), format!("unreadable hash `{h}`")),
                    }
                }
                last_package = Some(c.name.clone());
                components.push(c);
            }
            Err(e) => out.warn(input, Some(line_no), e.to_string()),
        }
    }
}

/// `pkg` from `pkg==1.0` or `-r requirements.in` as `# via` lists them.
fn via_name(text: &str) -> String {
    let text = text.trim();
    if text.starts_with('-') {
        text.to_string()
    } else {
        pep503(text.split_whitespace().next().unwrap_or(text))
    }
}

/// `(option, value)` for a line that starts with `-`.
fn split_option(line: &str) -> Option<(&str, &str)> {
    if !line.starts_with('-') {
        return None;
    }
    if let Some((opt, value)) = line.split_once('=')
        && opt.starts_with("--")
        && !opt.contains(' ')
    {
        return Some((opt, value.trim()));
    }
    match line.split_once(char::is_whitespace) {
        Some((opt, value)) => Some((opt, value.trim())),
        None => {
            // `-rfile.txt`
            if line.len() > 2 && !line.starts_with("--") && line.is_char_boundary(2) {
                Some((&line[..2], line[2..].trim()))
            } else {
                Some((line, ""))
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn include(
    input: &Input<'_>,
    target: &str,
    scope: Scope,
    state: &mut State,
    components: &mut Vec<Component>,
    out: &mut Parsed,
    depth: usize,
    line: usize,
    constraints_only: bool,
) {
    if target.contains("://") {
        out.warn(
            input,
            Some(line),
            format!("remote include `{target}` not read (offline)"),
        );
        return;
    }
    if depth >= MAX_INCLUDE_DEPTH {
        out.warn(
            input,
            Some(line),
            format!("include `{target}` nested too deep, not read"),
        );
        return;
    }
    let base = input.path.parent().unwrap_or(Path::new("."));
    let path = base.join(target);
    let read = gantry_fs::resolve_inside(input.root, base, target)
        .and_then(|p| gantry_fs::read_text_bounded(&p, crate::MAX_FILE_BYTES));
    let text = match read {
        Ok(t) => t,
        Err(e) => {
            out.warn(
                input,
                Some(line),
                format!("include `{target}` not read: {e}"),
            );
            return;
        }
    };
    let display_base = Path::new(input.display).parent().unwrap_or(Path::new(""));
    let display = display_base
        .join(target)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let nested = Input {
        path: &path,
        root: input.root,
        display: &display,
        text: &text,
    };
    read_file(
        &nested,
        scope,
        state,
        components,
        out,
        depth + 1,
        constraints_only,
    );
}

/// The `#egg=name` of an editable URL, or the last path segment.
fn egg_name(value: &str) -> Option<String> {
    if let Some(i) = value.find("#egg=") {
        let egg = &value[i + 5..];
        return Some(egg.split(['&', '[']).next().unwrap_or(egg).to_string());
    }
    let trimmed = value.trim_end_matches('/');
    let last = trimmed.rsplit(['/', '\\']).next()?;
    (!last.is_empty() && last != ".").then(|| last.to_string())
}

#[derive(Debug, PartialEq)]
struct Requirement {
    name: String,
    extras: Vec<String>,
    /// The exact version when the line pins one with `==` or `===`.
    pinned: Option<String>,
    /// The version specifier or URL as written.
    spec: String,
    marker: Option<String>,
    url: Option<String>,
    hashes: Vec<String>,
}

/// One PEP 508 requirement line with pip's per-line options.
/// Why a requirement line could not be read (a warning: the line is
/// skipped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum RequirementError {
    #[error("cannot tell the package name of `{0}`")]
    NoName(String),
    #[error("cannot read requirement `{0}`")]
    Unreadable(String),
    #[error("unclosed extras in `{0}`")]
    UnclosedExtras(String),
    #[error("cannot read version specifier `{spec}` of {name}")]
    Specifier { spec: String, name: String },
}

fn parse_requirement(line: &str) -> Result<Requirement, RequirementError> {
    // Per-requirement options come after the requirement.
    let mut hashes = Vec::new();
    let mut body = String::new();
    let mut words = line.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if let Some(h) = word.strip_prefix("--hash=") {
            hashes.push(h.to_string());
        } else if word == "--hash" {
            if let Some(h) = words.next() {
                hashes.push(h.to_string());
            }
        } else if word.starts_with("--") {
            // --global-option and friends: not part of the requirement.
            if !word.contains('=') {
                words.next();
            }
        } else {
            if !body.is_empty() {
                body.push(' ');
            }
            body.push_str(word);
        }
    }
    let (req, marker) = match body.split_once(';') {
        Some((r, m)) => (
            r.trim(),
            Some(m.trim().to_string()).filter(|m| !m.is_empty()),
        ),
        None => (body.trim(), None),
    };
    // A bare URL or path: name from `#egg=` or the file name.
    if req.contains("://") && !req.contains(" @ ") && !req.contains('@')
        || req.starts_with('.')
        || req.starts_with('/')
    {
        let name = egg_name(req)
            .map(|n| wheel_name(&n))
            .ok_or_else(|| RequirementError::NoName(req.to_string()))?;
        return Ok(Requirement {
            name: pep503(&name),
            extras: Vec::new(),
            pinned: None,
            spec: req.to_string(),
            marker,
            url: Some(req.to_string()),
            hashes,
        });
    }
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let name = &req[..end];
    if name.is_empty() {
        return Err(RequirementError::Unreadable(line.to_string()));
    }
    let mut rest = req[end..].trim_start();
    let mut extras = Vec::new();
    if let Some(after) = rest.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| RequirementError::UnclosedExtras(req.to_string()))?;
        extras = after[..close]
            .split(',')
            .map(|e| pep503(e.trim()))
            .filter(|e| !e.is_empty())
            .collect();
        rest = after[close + 1..].trim_start();
    }
    if let Some(url) = rest.strip_prefix('@') {
        let url = url.trim();
        return Ok(Requirement {
            name: pep503(name),
            extras,
            pinned: None,
            spec: format!("@ {url}"),
            marker,
            url: Some(url.to_string()),
            hashes,
        });
    }
    let spec = rest
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim();
    let pinned = pin_of(spec);
    if !spec.is_empty() && pinned.is_none() && !spec.starts_with(['<', '>', '=', '!', '~']) {
        return Err(RequirementError::Specifier {
            spec: spec.to_string(),
            name: name.to_string(),
        });
    }
    Ok(Requirement {
        name: pep503(name),
        extras,
        pinned,
        spec: if spec.is_empty() {
            "*".into()
        } else {
            spec.to_string()
        },
        marker,
        url: None,
        hashes,
    })
}

/// The version of a single `==X` or `===X` clause without wildcards.
fn pin_of(spec: &str) -> Option<String> {
    if spec.contains(',') {
        return None;
    }
    let v = spec
        .strip_prefix("===")
        .or_else(|| spec.strip_prefix("=="))?
        .trim();
    (!v.is_empty() && !v.contains('*')).then(|| v.to_string())
}

/// The distribution name of a wheel or sdist file name.
fn wheel_name(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    if base.ends_with(".whl") || base.ends_with(".tar.gz") || base.ends_with(".zip") {
        base.split('-').next().unwrap_or(base).to_string()
    } else {
        base.to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_pins_extras_markers_and_hashes() {
        let r = parse_requirement(
            "Flask_Login[Async, extra2]==0.6.2 ; python_version < \"3.8\" --hash=sha256:aa",
        )
        .unwrap();
        assert_eq!(r.name, "flask-login");
        assert_eq!(r.extras, ["async", "extra2"]);
        assert_eq!(r.pinned.as_deref(), Some("0.6.2"));
        assert_eq!(r.marker.as_deref(), Some("python_version < \"3.8\""));
        assert_eq!(r.hashes, ["sha256:aa"]);
        assert_eq!(parse_requirement("requests>=2.0,<3").unwrap().pinned, None);
        assert_eq!(parse_requirement("requests==2.*").unwrap().pinned, None);
        assert_eq!(parse_requirement("requests").unwrap().spec, "*");
        let url = parse_requirement("pkg @ https://example.com/pkg-1.0.tar.gz").unwrap();
        assert_eq!(url.name, "pkg");
        assert_eq!(url.pinned, None);
        let bare =
            parse_requirement("https://example.com/dl/six-1.16.0-py2.py3-none-any.whl").unwrap();
        assert_eq!(bare.name, "six");
        assert_eq!(
            parse_requirement("requests ^^ 2").unwrap_err(),
            RequirementError::Specifier {
                spec: "^^ 2".into(),
                name: "requests".into()
            }
        );
        let err = parse_requirement("requests[socks >=2").unwrap_err();
        assert_eq!(err.to_string(), "unclosed extras in `requests[socks >=2`");
        assert!(matches!(
            parse_requirement("== 1.0"),
            Err(RequirementError::Unreadable(_))
        ));
        assert!(matches!(
            parse_requirement("./"),
            Err(RequirementError::NoName(_))
        ));
    }

    #[test]
    fn short_option_followed_by_a_multibyte_character_is_not_a_panic() {
        assert_eq!(split_option("-r\u{556}x"), Some(("-r", "\u{556}x")));
        assert_eq!(split_option("-\u{556}ndex"), Some(("-\u{556}ndex", "")));
    }
}

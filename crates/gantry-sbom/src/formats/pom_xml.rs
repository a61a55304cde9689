//! Maven `pom.xml`: the `<dependencies>` of the project with explicit
//! versions, `${property}` references resolved from the same file's
//! `<properties>` and project coordinates, and versions from its own
//! `<dependencyManagement>`. A range, a missing version or an unresolved
//! property is reported as unpinned. `test` and `provided` scopes are dev,
//! `<optional>true` optional. Everything is direct: a pom does not record
//! the resolved tree.

use std::collections::HashMap;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{Input, LockfileFormat, Parsed, file_name};
use crate::model::{Component, Ecosystem, Scope};
use crate::text::Lines;

pub(crate) struct PomXml;

/// Elements nested deeper than this are reported, not read.
const MAX_DEPTH: usize = 128;

#[derive(Default, Clone)]
struct Dependency {
    line: usize,
    group: String,
    artifact: String,
    version: String,
    scope: String,
    optional: String,
}

impl LockfileFormat for PomXml {
    fn name(&self) -> &'static str {
        "pom.xml"
    }

    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Maven
    }

    fn matches(&self, path: &Path) -> bool {
        file_name(path) == "pom.xml"
    }

    fn parse(&self, input: &Input<'_>, out: &mut Parsed) {
        let lines = Lines::new(input.text);
        let mut reader = Reader::from_str(input.text);
        reader.config_mut().trim_text(true);
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut props: HashMap<String, String> = HashMap::new();
        let mut deps: Vec<Dependency> = Vec::new();
        let mut managed: Vec<Dependency> = Vec::new();
        let mut current: Option<Dependency> = None;
        loop {
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let line = lines.line_of(usize::try_from(reader.error_position()).unwrap_or(0));
                    out.warn(input, Some(line), format!("failed to parse XML: {e}"));
                    return;
                }
            };
            match event {
                Event::Start(e) => {
                    if path.len() >= MAX_DEPTH {
                        let line =
                            lines.line_of(usize::try_from(reader.buffer_position()).unwrap_or(0));
                        out.warn(
                            input,
                            Some(line),
                            "elements nested too deep; rest of the file not read",
                        );
                        return;
                    }
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    path.push(name);
                    text.clear();
                    if is_dependency(&path) {
                        let line =
                            lines.line_of(usize::try_from(reader.buffer_position()).unwrap_or(0));
                        current = Some(Dependency {
                            line,
                            ..Dependency::default()
                        });
                    }
                }
                Event::Text(t) => {
                    if let Ok(s) = t.decode() {
                        text.push_str(&s);
                    }
                }
                Event::CData(t) => {
                    if let Ok(s) = t.decode() {
                        text.push_str(&s);
                    }
                }
                Event::GeneralRef(r) => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        text.push(c);
                    } else if let Ok(name) = r.decode() {
                        text.push_str(match name.as_ref() {
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "quot" => "\"",
                            "apos" => "'",
                            _ => "",
                        });
                    }
                }
                Event::End(_) => {
                    let value = text.trim().to_string();
                    let p: Vec<&str> = path.iter().map(String::as_str).collect();
                    match p.as_slice() {
                        ["project", "properties", key] => {
                            props.insert((*key).to_string(), value.clone());
                        }
                        ["project", field @ ("groupId" | "artifactId" | "version")] => {
                            props.insert(format!("project.{field}"), value.clone());
                        }
                        ["project", "parent", field @ ("groupId" | "version")] => {
                            props.insert(format!("project.parent.{field}"), value.clone());
                            props
                                .entry(format!("project.{field}"))
                                .or_insert(value.clone());
                        }
                        _ => {}
                    }
                    if let Some(dep) = current.as_mut() {
                        match p.last().copied() {
                            Some("groupId") => dep.group = value.clone(),
                            Some("artifactId") => dep.artifact = value.clone(),
                            Some("version") => dep.version = value.clone(),
                            Some("scope") => dep.scope = value.clone(),
                            Some("optional") => dep.optional = value.clone(),
                            _ => {}
                        }
                    }
                    if is_dependency(&path)
                        && let Some(dep) = current.take()
                    {
                        if p.get(1) == Some(&"dependencyManagement") {
                            managed.push(dep);
                        } else {
                            deps.push(dep);
                        }
                    }
                    path.pop();
                    text.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        // `project.version` may be set only by the parent.
        if let Some(v) = props.get("project.version").cloned() {
            props.entry("version".into()).or_insert(v.clone());
            props.entry("pom.version".into()).or_insert(v);
        }
        let managed: HashMap<(String, String), String> = managed
            .into_iter()
            .map(|d| {
                (
                    (resolve(&d.group, &props), resolve(&d.artifact, &props)),
                    d.version,
                )
            })
            .collect();
        for dep in deps {
            let group = resolve(&dep.group, &props);
            let artifact = resolve(&dep.artifact, &props);
            if group.is_empty()
                || artifact.is_empty()
                || group.contains("${")
                || artifact.contains("${")
            {
                out.warn(input, Some(dep.line), format!("dependency without a readable groupId and artifactId (`{group}:{artifact}`)"));
                continue;
            }
            let raw_version = if dep.version.is_empty() {
                managed
                    .get(&(group.clone(), artifact.clone()))
                    .cloned()
                    .unwrap_or_default()
            } else {
                dep.version.clone()
            };
            let version = resolve(&raw_version, &props);
            let name = format!("{group}:{artifact}");
            let at = input.at(dep.line);
            let pinned = !version.is_empty()
                && !version.contains("${")
                && !version.starts_with(['[', '('])
                && !version.contains(',');
            let mut c = if pinned {
                Component::new(Ecosystem::Maven, &name, Some(&version), at)
            } else if version.is_empty() {
                Component::unpinned(
                    Ecosystem::Maven,
                    &name,
                    "version managed outside this pom",
                    at,
                )
            } else {
                Component::unpinned(Ecosystem::Maven, &name, &version, at)
            };
            c.direct = true;
            c.scope = match (dep.scope.as_str(), dep.optional.as_str()) {
                ("test" | "provided" | "system", _) => Scope::Dev,
                (_, "true") => Scope::Optional,
                _ => Scope::Runtime,
            };
            if !dep.scope.is_empty() {
                c = c.with_property("maven-scope", dep.scope.clone());
            }
            out.components.push(c);
        }
    }
}

fn is_dependency(path: &[String]) -> bool {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    matches!(
        p.as_slice(),
        ["project", "dependencies", "dependency"]
            | [
                "project",
                "dependencyManagement",
                "dependencies",
                "dependency"
            ]
    )
}

/// Replaces `${name}` with the property's value, a few rounds deep.
fn resolve(text: &str, props: &HashMap<String, String>) -> String {
    let mut current = text.to_string();
    for _ in 0..8 {
        let Some(start) = current.find("${") else {
            break;
        };
        let Some(len) = current[start..].find('}') else {
            break;
        };
        let key = &current[start + 2..start + len];
        let Some(value) = props.get(key) else {
            break;
        };
        current = format!(
            "{}{}{}",
            &current[..start],
            value,
            &current[start + len + 1..]
        );
    }
    current
}

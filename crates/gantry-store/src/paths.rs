//! The `path:` inputs of `actions/cache` and `actions/upload-artifact`,
//! with the semantics of `@actions/glob`: one pattern per line, `#`
//! comments, `*` (within a path segment), `**` (any number of segments),
//! `?`, `[...]` classes, no brace expansion, dot files matched like any
//! other, a trailing `/` for directories only, `!` to exclude. Patterns
//! apply in order (a later one overrides an earlier one), and a pattern
//! that matches a directory also matches everything under it.
//!
//! Patterns are relative to a root folder, or absolute inside it; `~` is
//! expanded by the caller. Nothing outside the root is ever collected, and
//! symbolic links are collected as links, never followed.

use std::cmp::Ordering;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::error::StoreError;

/// What a collected path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File { len: u64 },
    Dir,
    Symlink { target: PathBuf },
}

/// A path selected by the patterns, relative to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEntry {
    pub rel: PathBuf,
    pub kind: EntryKind,
    /// Unix permission bits (`0o7777`).
    pub mode: u32,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
}

#[derive(Debug)]
struct Pattern {
    negate: bool,
    dir_only: bool,
    /// The pattern names the root itself (`.`).
    root: bool,
    matcher: Option<GlobMatcher>,
    /// Leading segments without wildcards: where a walk starts.
    literal_prefix: PathBuf,
}

impl Pattern {
    fn matches(&self, rel: &Path, is_dir: bool) -> bool {
        if self.dir_only && !is_dir {
            return false;
        }
        if rel.as_os_str().is_empty() {
            return self.root;
        }
        self.matcher.as_ref().is_some_and(|m| m.is_match(rel))
    }
}

/// Compiled path patterns.
#[derive(Debug)]
pub struct PathPatterns {
    root: PathBuf,
    patterns: Vec<Pattern>,
    texts: Vec<String>,
}

impl PathPatterns {
    /// Compiles `lines` (each may hold several patterns, one per line)
    /// against `root`.
    pub fn parse(root: &Path, lines: &[String]) -> Result<PathPatterns, StoreError> {
        let root = std::path::absolute(root).map_err(|e| StoreError::io("resolve", root, e))?;
        let root = normalize(&root).unwrap_or(root);
        let mut patterns = Vec::new();
        let mut texts = Vec::new();
        for line in lines.iter().flat_map(|l| l.lines()) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            texts.push(line.to_string());
            patterns.push(compile(&root, line)?);
        }
        Ok(PathPatterns {
            root,
            patterns,
            texts,
        })
    }

    /// The root the patterns are relative to (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The patterns as given, without comments and blank lines.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// Whether a path (relative to the root) is selected, given whether it
    /// or an ancestor matched each pattern.
    fn included(&self, matched: &[bool]) -> bool {
        let mut included = false;
        for (pattern, &m) in self.patterns.iter().zip(matched) {
            if pattern.negate {
                included &= !m;
            } else {
                included |= m;
            }
        }
        included
    }

    /// Walks the file system under the root and returns the selected
    /// paths, parents before children, siblings sorted by name.
    pub fn collect(&self) -> Result<Vec<PathEntry>, StoreError> {
        let mut starts: Vec<&Path> = self
            .patterns
            .iter()
            .filter(|p| !p.negate)
            .map(|p| p.literal_prefix.as_path())
            .collect();
        starts.sort_by(|a, b| compare_paths(a, b));
        starts.dedup();
        let mut walk_roots: Vec<&Path> = Vec::new();
        for start in starts {
            if !walk_roots.iter().any(|r| start.starts_with(r)) {
                walk_roots.push(start);
            }
        }
        let mut out = Vec::new();
        for start in walk_roots {
            // Which patterns the start's ancestors (root included) match.
            let mut inherited = vec![false; self.patterns.len()];
            let mut ancestor = PathBuf::new();
            let mut components = start.components().peekable();
            loop {
                for (i, p) in self.patterns.iter().enumerate() {
                    inherited[i] |= p.matches(&ancestor, true);
                }
                match components.next() {
                    Some(c) if components.peek().is_some() => ancestor.push(c),
                    _ => break,
                }
            }
            if start.as_os_str().is_empty() {
                self.walk_dir(Path::new(""), &inherited, &mut out)?;
            } else {
                let abs = self.root.join(start);
                match fs::symlink_metadata(&abs) {
                    Ok(meta) => self.visit(start, &meta, &inherited, &mut out)?,
                    Err(e) if is_absent(&e) => {}
                    Err(e) => return Err(StoreError::io("read", abs, e)),
                }
            }
        }
        Ok(out)
    }

    fn visit(
        &self,
        rel: &Path,
        meta: &fs::Metadata,
        inherited: &[bool],
        out: &mut Vec<PathEntry>,
    ) -> Result<(), StoreError> {
        let is_dir = meta.is_dir();
        let matched: Vec<bool> = self
            .patterns
            .iter()
            .zip(inherited)
            .map(|(p, &inh)| inh || p.matches(rel, is_dir))
            .collect();
        if self.included(&matched) {
            let kind = if meta.is_file() {
                Some(EntryKind::File { len: meta.len() })
            } else if is_dir {
                Some(EntryKind::Dir)
            } else if meta.file_type().is_symlink() {
                let abs = self.root.join(rel);
                let target =
                    fs::read_link(&abs).map_err(|e| StoreError::io("read the link", abs, e))?;
                Some(EntryKind::Symlink { target })
            } else {
                // Sockets, pipes and devices are not archived.
                None
            };
            if let Some(kind) = kind {
                out.push(PathEntry {
                    rel: rel.to_path_buf(),
                    kind,
                    mode: mode_of(meta),
                    mtime: mtime_of(meta),
                });
            }
        }
        if is_dir {
            self.walk_dir(rel, &matched, out)?;
        }
        Ok(())
    }

    fn walk_dir(
        &self,
        rel: &Path,
        inherited: &[bool],
        out: &mut Vec<PathEntry>,
    ) -> Result<(), StoreError> {
        let abs = self.root.join(rel);
        let reader = match fs::read_dir(&abs) {
            Ok(r) => r,
            Err(e) if is_absent(&e) => return Ok(()),
            Err(e) => return Err(StoreError::io("list", abs, e)),
        };
        let mut children = Vec::new();
        for entry in reader {
            let entry = entry.map_err(|e| StoreError::io("list", &abs, e))?;
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Deleted while we walked.
                Err(e) if is_absent(&e) => continue,
                Err(e) => return Err(StoreError::io("read", entry.path(), e)),
            };
            children.push((entry.file_name(), meta));
        }
        children.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, meta) in children {
            self.visit(&rel.join(name), &meta, inherited, out)?;
        }
        Ok(())
    }
}

fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn compare_paths(a: &Path, b: &Path) -> Ordering {
    a.components().cmp(b.components())
}

/// Lexically resolves `.` and `..`; `None` if `..` climbs above the start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

fn has_wildcard(segment: &str) -> bool {
    segment.contains(['*', '?', '[', '\\'])
}

fn compile(root: &Path, line: &str) -> Result<Pattern, StoreError> {
    let negations = line.chars().take_while(|&c| c == '!').count();
    let negate = negations % 2 == 1;
    let body = line[negations..].trim();
    let error = |reason: &str| StoreError::Pattern {
        pattern: line.to_string(),
        reason: reason.to_string(),
    };
    if body.is_empty() {
        return Err(error("the pattern is empty"));
    }
    let dir_only = body.ends_with('/') && body.len() > 1;
    let outside = || StoreError::OutsideRoot {
        pattern: line.to_string(),
        root: root.to_path_buf(),
    };
    // Resolve `.` and `..` lexically, as `path.resolve` does.
    let mut resolved: Vec<&str> = Vec::new();
    for s in body.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                if resolved.pop().is_none() {
                    return Err(outside());
                }
            }
            other => resolved.push(other),
        }
    }
    let segments: Vec<&str> = if body.starts_with('/') {
        // Absolute: must lie under the root; keep what follows it.
        let root_segments: Vec<String> = root
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let inside = resolved.len() >= root_segments.len()
            && resolved.iter().zip(&root_segments).all(|(a, b)| a == b);
        if !inside {
            return Err(outside());
        }
        resolved.split_off(root_segments.len())
    } else {
        resolved
    };
    let literal_prefix: PathBuf = segments.iter().take_while(|s| !has_wildcard(s)).collect();
    if segments.is_empty() {
        return Ok(Pattern {
            negate,
            dir_only,
            root: true,
            matcher: None,
            literal_prefix,
        });
    }
    let glob = segments
        .iter()
        .map(|s| escape_braces(s))
        .collect::<Vec<_>>()
        .join("/");
    let matcher = GlobBuilder::new(&glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| error(&e.kind().to_string()))?
        .compile_matcher();
    Ok(Pattern {
        negate,
        dir_only,
        root: false,
        matcher: Some(matcher),
        literal_prefix,
    })
}

/// `@actions/glob` does not expand braces: make them literal for globset.
fn escape_braces(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut in_class = false;
    let mut escaped = false;
    for c in segment.chars() {
        if escaped {
            out.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' | '}' if !in_class => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else if meta.permissions().readonly() {
        0o444
    } else {
        0o644
    }
}

#[cfg(unix)]
fn mtime_of(meta: &fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
}

#[cfg(not(unix))]
fn mtime_of(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .map(|t| crate::time::Timestamp::from_system_time(t).seconds())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            if f.ends_with('/') {
                fs::create_dir_all(&p).unwrap();
            } else {
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(&p, f).unwrap();
            }
        }
        dir
    }

    fn selected(root: &Path, patterns: &[&str]) -> Vec<String> {
        let lines: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        let p = PathPatterns::parse(root, &lines).unwrap();
        p.collect()
            .unwrap()
            .into_iter()
            .map(|e| {
                let mut s = e.rel.to_string_lossy().replace('\\', "/");
                if e.kind == EntryKind::Dir {
                    s.push('/');
                }
                s
            })
            .collect()
    }

    const FILES: &[&str] = &[
        "a/x.txt",
        "a/y.log",
        "a/b/z.txt",
        "a/.hidden",
        "c/d.txt",
        "top.txt",
        "empty/",
        "{brace}.txt",
    ];

    #[test]
    fn a_directory_brings_its_descendants() {
        let t = tree(FILES);
        assert_eq!(
            selected(t.path(), &["a"]),
            ["a/", "a/.hidden", "a/b/", "a/b/z.txt", "a/x.txt", "a/y.log"]
        );
    }

    #[test]
    fn star_stays_in_its_segment_and_double_star_crosses() {
        let t = tree(FILES);
        assert_eq!(selected(t.path(), &["*.txt"]), ["top.txt", "{brace}.txt"]);
        assert_eq!(
            selected(t.path(), &["**/*.txt"]),
            ["a/b/z.txt", "a/x.txt", "c/d.txt", "top.txt", "{brace}.txt"]
        );
        assert_eq!(selected(t.path(), &["a/?.txt"]), ["a/x.txt"]);
        assert_eq!(selected(t.path(), &["a/[xy].*"]), ["a/x.txt", "a/y.log"]);
    }

    #[test]
    fn exclusions_apply_in_order() {
        let t = tree(FILES);
        assert_eq!(
            selected(t.path(), &["a", "!a/b", "!**/*.log"]),
            ["a/", "a/.hidden", "a/x.txt"]
        );
        // A later pattern includes again what an earlier one excluded.
        assert_eq!(
            selected(t.path(), &["a/**/*.txt", "!a/**", "a/b/z.txt"]),
            ["a/b/z.txt"]
        );
        // `!!` is an inclusion again.
        assert_eq!(selected(t.path(), &["!!c"]), ["c/", "c/d.txt"]);
    }

    #[test]
    fn lines_comments_and_blank_lines() {
        let t = tree(FILES);
        assert_eq!(
            selected(t.path(), &["# the cache\nc\n\n  top.txt  \n"]),
            ["c/", "c/d.txt", "top.txt"]
        );
    }

    #[test]
    fn braces_are_literal_and_trailing_slash_means_directories() {
        let t = tree(FILES);
        assert_eq!(selected(t.path(), &["{brace}.txt"]), ["{brace}.txt"]);
        assert_eq!(selected(t.path(), &["{a,c}"]), Vec::<String>::new());
        assert_eq!(selected(t.path(), &["*/"]).first().unwrap(), "a/");
        assert!(!selected(t.path(), &["*/"]).contains(&"top.txt".to_string()));
        assert_eq!(selected(t.path(), &["empty"]), ["empty/"]);
    }

    #[test]
    fn root_absolute_and_dot_segments() {
        let t = tree(FILES);
        let abs = t.path().join("c").to_string_lossy().into_owned();
        assert_eq!(selected(t.path(), &[&abs]), ["c/", "c/d.txt"]);
        assert_eq!(selected(t.path(), &["./a/../c/"]), ["c/", "c/d.txt"]);
        assert_eq!(selected(t.path(), &["."]).len(), 11);
    }

    #[test]
    fn patterns_outside_the_root_are_refused() {
        let t = tree(FILES);
        for p in ["../x", "a/../../x", "/etc/passwd"] {
            let err = PathPatterns::parse(t.path(), &[p.to_string()]).unwrap_err();
            assert!(matches!(err, StoreError::OutsideRoot { .. }), "{p}: {err}");
        }
        let err = PathPatterns::parse(t.path(), &["!".to_string()]).unwrap_err();
        assert!(matches!(err, StoreError::Pattern { .. }));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_collected_not_followed() {
        let t = tree(FILES);
        std::os::unix::fs::symlink("/etc", t.path().join("a/etc-link")).unwrap();
        let got = selected(t.path(), &["a"]);
        assert!(got.contains(&"a/etc-link".to_string()), "{got:?}");
        assert!(!got.iter().any(|p| p.starts_with("a/etc-link/")), "{got:?}");
    }

    #[test]
    fn missing_paths_select_nothing() {
        let t = tree(FILES);
        assert!(selected(t.path(), &["nope", "nope/**/x"]).is_empty());
        assert!(selected(t.path(), &["!a"]).is_empty());
    }
}

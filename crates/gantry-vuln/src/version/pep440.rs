//! PEP 440 (PyPI): `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, with
//! the specification's normalisations (case, `alpha`/`beta`/`c`/`pre`/
//! `preview`, `rev`/`r`, `-1` as an implicit post-release, optional
//! separators and numbers, a leading `v`). Order: epoch, release without
//! trailing zeros, then `.devN` < `aN` < `bN` < `rcN` < release <
//! `.postN`, and a local version sorts after the same public version.

use std::cmp::Ordering;

use super::VersionOrder;

/// PEP 440.
pub struct Pep440;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PreKey {
    /// A dev release of the final release (`1.0.dev1`) sorts before its
    /// pre-releases.
    DevOnly,
    Pre(u8, u64),
    Final,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum DevKey {
    Dev(u64),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Local {
    // Strings sort before numbers.
    Str(String),
    Num(u64),
}

/// The comparison key of a version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    epoch: u64,
    release: Vec<u64>,
    pre: PreKey,
    post: Option<u64>,
    dev: DevKey,
    local: Option<Vec<Local>>,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn number(&mut self) -> Option<u64> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn separator(&mut self) -> bool {
        if matches!(self.peek(), Some(b'.' | b'-' | b'_')) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the first of `words` found here.
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let rest = &self.s[self.i..];
        let (index, w) = words
            .iter()
            .enumerate()
            .filter(|(_, w)| rest.starts_with(w.as_bytes()))
            .max_by_key(|(_, w)| w.len())?;
        self.i += w.len();
        Some(index)
    }
}

/// Parses a PEP 440 version into its comparison key.
pub(crate) fn parse(text: &str) -> Option<Key> {
    let lower = text.trim().to_ascii_lowercase();
    if lower.len() > super::MAX_VERSION_LEN {
        return None;
    }
    let body = lower.strip_prefix('v').unwrap_or(&lower);
    let (public, local) = match body.split_once('+') {
        Some((p, l)) => (p, Some(l)),
        None => (body, None),
    };
    let mut c = Cursor {
        s: public.as_bytes(),
        i: 0,
    };
    let first = c.number()?;
    let (epoch, mut release) = if c.peek() == Some(b'!') {
        c.i += 1;
        (first, vec![c.number()?])
    } else {
        (0, vec![first])
    };
    while c.peek() == Some(b'.') && c.s.get(c.i + 1).is_some_and(u8::is_ascii_digit) {
        c.i += 1;
        release.push(c.number()?);
    }
    let mut pre = None;
    let mut post = None;
    let mut dev = None;
    // Pre-release.
    let save = c.i;
    c.separator();
    let pre_words = ["a", "alpha", "b", "beta", "c", "rc", "pre", "preview"];
    if let Some(w) = c.word(&pre_words) {
        let kind = match pre_words[w] {
            "a" | "alpha" => 0,
            "b" | "beta" => 1,
            _ => 2,
        };
        let save_n = c.i;
        c.separator();
        let n = c.number().unwrap_or_else(|| {
            c.i = save_n;
            0
        });
        pre = Some((kind, n));
    } else {
        c.i = save;
    }
    // Post-release: `-N`, or `[sep]post[sep]N`.
    let save = c.i;
    if c.peek() == Some(b'-') && c.s.get(c.i + 1).is_some_and(u8::is_ascii_digit) {
        c.i += 1;
        post = c.number();
    } else {
        c.separator();
        if c.word(&["post", "rev", "r"]).is_some() {
            let save_n = c.i;
            c.separator();
            post = Some(c.number().unwrap_or_else(|| {
                c.i = save_n;
                0
            }));
        } else {
            c.i = save;
        }
    }
    // Dev release.
    let save = c.i;
    c.separator();
    if c.word(&["dev"]).is_some() {
        let save_n = c.i;
        c.separator();
        dev = Some(c.number().unwrap_or_else(|| {
            c.i = save_n;
            0
        }));
    } else {
        c.i = save;
    }
    if c.i != c.s.len() {
        return None;
    }
    let local = match local {
        None => None,
        Some(l) => {
            let parts: Vec<Local> = l
                .split(['.', '-', '_'])
                .map(|p| match p.parse::<u64>() {
                    Ok(n) => Some(Local::Num(n)),
                    Err(_) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                        Some(Local::Str(p.to_string()))
                    }
                    Err(_) => None,
                })
                .collect::<Option<_>>()?;
            Some(parts)
        }
    };
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let pre_key = match (pre, post, dev) {
        (None, None, Some(_)) => PreKey::DevOnly,
        (Some((k, n)), _, _) => PreKey::Pre(k, n),
        (None, _, _) => PreKey::Final,
    };
    Some(Key {
        epoch,
        release,
        pre: pre_key,
        post,
        dev: dev.map_or(DevKey::None, DevKey::Dev),
        local,
    })
}

impl VersionOrder for Pep440 {
    fn name(&self) -> &'static str {
        "PEP 440"
    }

    fn compare(&self, a: &str, b: &str) -> Option<Ordering> {
        Some(parse(a)?.cmp(&parse(b)?))
    }
}

/// A version specifier list (`>=2.25,<3`, `~=1.4.2`, `==1.*`, `!=1.3`):
/// every clause must hold. Pre-releases match only when a clause names a
/// pre-release, as PEP 440 says installers should; `<V` never admits a
/// pre-release of `V`, and `>V` never admits a post-release of `V`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specifiers {
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
    Compatible,
    Arbitrary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    op: Op,
    version: String,
    /// `==1.2.*` / `!=1.2.*`: the release prefix.
    prefix: Option<(u64, Vec<u64>)>,
}

/// Why a specifier list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{clause}` is not a PEP 440 version specifier")]
pub struct SpecifierError {
    pub clause: String,
}

/// The epoch and the release numbers as written (`1!2.0` gives `(1, [2, 0])`).
fn release_as_written(text: &str) -> Option<(u64, Vec<u64>)> {
    let t = text.trim().trim_start_matches(['v', 'V']);
    let (epoch, rest) = match t.split_once('!') {
        Some((e, r)) => (e.parse().ok()?, r),
        None => (0, t),
    };
    let numbers: Vec<u64> = rest
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (!numbers.is_empty()).then_some((epoch, numbers))
}

impl Specifiers {
    /// Parses a comma-separated list; an empty list admits every final
    /// release.
    pub fn parse(text: &str) -> Result<Specifiers, SpecifierError> {
        let mut clauses = Vec::new();
        for raw in text.split(',') {
            let c = raw.trim();
            if c.is_empty() {
                continue;
            }
            let bad = || SpecifierError {
                clause: c.to_string(),
            };
            let (op, rest) = [
                ("===", Op::Arbitrary),
                ("~=", Op::Compatible),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
            ]
            .iter()
            .find_map(|(p, op)| c.strip_prefix(p).map(|r| (*op, r.trim())))
            .ok_or_else(bad)?;
            if rest.is_empty() || rest.len() > super::MAX_VERSION_LEN {
                return Err(bad());
            }
            let mut prefix = None;
            if let Some(p) = rest.strip_suffix(".*") {
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(bad());
                }
                prefix = Some(release_as_written(p).ok_or_else(bad)?);
            } else if op == Op::Compatible {
                match release_as_written(rest.split(['a', 'b', 'r', 'p', 'd']).next().unwrap_or(""))
                {
                    Some((_, r)) if r.len() >= 2 => {}
                    _ => return Err(bad()),
                }
                parse(rest).ok_or_else(bad)?;
            } else if op != Op::Arbitrary {
                parse(rest).ok_or_else(bad)?;
            }
            clauses.push(Clause {
                op,
                version: rest.to_string(),
                prefix,
            });
        }
        Ok(Specifiers { clauses })
    }

    /// Whether `version` satisfies every clause.
    pub fn contains(&self, version: &str) -> bool {
        let Some(v) = parse(version) else {
            return false;
        };
        let is_pre = |k: &Key| k.pre != PreKey::Final || k.dev != DevKey::None;
        if is_pre(&v)
            && !self
                .clauses
                .iter()
                .any(|c| parse(&c.version).is_some_and(|k| is_pre(&k)))
        {
            return false;
        }
        self.clauses.iter().all(|c| clause_holds(c, &v, version))
    }
}

fn prefix_matches(v: &Key, (epoch, prefix): &(u64, Vec<u64>)) -> bool {
    v.epoch == *epoch
        && prefix
            .iter()
            .enumerate()
            .all(|(i, n)| v.release.get(i).copied().unwrap_or(0) == *n)
}

fn clause_holds(c: &Clause, v: &Key, text: &str) -> bool {
    if c.op == Op::Arbitrary {
        return c.version.eq_ignore_ascii_case(text.trim());
    }
    if let Some(prefix) = &c.prefix {
        let m = prefix_matches(v, prefix);
        return if c.op == Op::Eq { m } else { !m };
    }
    let Some(s) = parse(&c.version) else {
        return false;
    };
    // A specifier without a local part ignores the candidate's local part.
    let public = |k: &Key| Key {
        local: None,
        ..k.clone()
    };
    let vv = if s.local.is_none() {
        public(v)
    } else {
        v.clone()
    };
    let same_release = v.epoch == s.epoch && v.release == s.release;
    match c.op {
        Op::Eq => vv == s,
        Op::Ne => vv != s,
        Op::Le => vv <= s,
        Op::Ge => vv >= s,
        Op::Lt => vv < s && !(same_release && s.pre == PreKey::Final && v.pre != PreKey::Final),
        Op::Gt => vv > s && !(same_release && s.post.is_none() && v.post.is_some()),
        Op::Compatible => {
            let Some((epoch, mut release)) = release_as_written(
                c.version
                    .split(['a', 'b', 'r', 'p', 'd'])
                    .next()
                    .unwrap_or(""),
            ) else {
                return false;
            };
            release.pop();
            vv >= s && prefix_matches(v, &(epoch, release))
        }
        Op::Arbitrary => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::assert_ascending;

    #[test]
    fn orders_as_the_specification() {
        // The example ordering of PEP 440's "Summary of permitted suffixes
        // and relative ordering", plus epochs and locals.
        assert_ascending(
            &Pep440,
            &[
                "1.dev0",
                "1.0.dev456",
                "1.0a1",
                "1.0a2.dev456",
                "1.0a12.dev456",
                "1.0a12",
                "1.0b1.dev456",
                "1.0b2",
                "1.0b2.post345.dev456",
                "1.0b2.post345",
                "1.0rc1.dev456",
                "1.0rc1",
                "1.0",
                "1.0+abc.5",
                "1.0+abc.7",
                "1.0+5",
                "1.0.post456.dev34",
                "1.0.post456",
                "1.0.15",
                "1.1.dev1",
                "5.2b1",
                "5.3.1",
                "2013.10",
                "1!0.1",
                "1!1.0",
            ],
        );
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn specifiers_hold_as_pep_440_says() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                ">=2.25,<3",
                &["2.25", "2.31.0", "2.99"],
                &["2.24", "3.0", "3.0rc1"],
            ),
            ("~=1.4.2", &["1.4.2", "1.4.9"], &["1.5.0", "1.4.1"]),
            ("~=2.2", &["2.2", "2.9.1"], &["3.0", "2.1"]),
            ("==1.2.*", &["1.2", "1.2.0", "1.2.7"], &["1.3", "1.20"]),
            ("!=1.3.*,>=1", &["1.2", "1.4"], &["1.3.1", "0.9"]),
            ("<2.0", &["1.9"], &["2.0rc1", "2.0"]),
            (">1.0", &["1.1"], &["1.0.post1", "1.0"]),
            ("==2.0", &["2.0", "2.0.0", "2.0+local"], &["2.0.1"]),
            (">=1.0rc1", &["1.0rc2", "1.0"], &["1.0b1"]),
            ("", &["5.0"], &["5.0a1"]),
        ];
        for (spec, yes, no) in cases {
            let s = Specifiers::parse(spec).unwrap();
            for v in *yes {
                assert!(s.contains(v), "{v} in {spec}");
            }
            for v in *no {
                assert!(!s.contains(v), "{v} not in {spec}");
            }
        }
        for bad in ["~=1", ">=banana", "=>1.0", ">=1.*", "1.0"] {
            assert!(Specifiers::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn normalises_spellings() {
        for (a, b) in [
            ("1.0", "1.0.0"),
            ("1.0ALPHA1", "1.0a1"),
            ("1.0-beta.2", "1.0b2"),
            ("1.0c1", "1.0rc1"),
            ("1.0-pre1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
            ("1.0.rev2", "1.0.post2"),
            ("1.0a", "1.0a0"),
            ("v1.0", "1.0"),
            ("1.0.dev", "1.0.dev0"),
            ("0.8.0-alpha2", "0.8.0a2"),
            ("1.4.7.dev3", "1.4.7.dev3"),
        ] {
            assert_eq!(Pep440.compare(a, b), Some(Ordering::Equal), "{a} == {b}");
        }
        for bad in ["", "banana", "1.0+", "1..0", "1.0-foo"] {
            assert!(!Pep440.is_valid(bad), "{bad}");
        }
    }
}

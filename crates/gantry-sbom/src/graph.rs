//! Direct dependencies and scopes from a lockfile's roots and edges.

use std::collections::{HashMap, VecDeque};

use crate::model::{Component, Scope};

/// Marks the roots' targets direct and gives every reachable component the
/// widest scope among the roots reaching it (breadth-first, each component
/// revisited only when its scope widens, so cycles end).
pub(crate) fn propagate(components: &mut [Component], roots: &[(String, Scope)]) {
    if roots.is_empty() {
        return;
    }
    let mut by_purl: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in components.iter().enumerate() {
        by_purl.entry(c.purl.as_str()).or_default().push(i);
    }
    let mut reached: Vec<Option<Scope>> = vec![None; components.len()];
    let mut direct = vec![false; components.len()];
    let mut queue = VecDeque::new();
    for (purl, scope) in roots {
        for &i in by_purl.get(purl.as_str()).into_iter().flatten() {
            direct[i] = true;
            queue.push_back((i, *scope));
        }
    }
    while let Some((i, scope)) = queue.pop_front() {
        let widened = !matches!(reached[i], Some(s) if s.widest(scope) == s);
        if !widened {
            continue;
        }
        let scope = reached[i].map_or(scope, |s| s.widest(scope));
        reached[i] = Some(scope);
        for dep in &components[i].dependencies {
            for &j in by_purl.get(dep.as_str()).into_iter().flatten() {
                queue.push_back((j, scope));
            }
        }
    }
    for (i, c) in components.iter_mut().enumerate() {
        if direct[i] {
            c.direct = true;
        }
        if let Some(scope) = reached[i] {
            c.scope = scope;
        }
    }
}

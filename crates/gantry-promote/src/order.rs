//! Promotion order: dependencies first, ties by name, and the cycles that
//! make an order impossible.
//!
//! Every dependency counts, optional ones included: an optional dependency
//! does not block a promotion, but when both are promoted it goes first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::catalog::{Catalog, Location};

/// One edge of a cycle: `from` depends on `to`, declared at `location`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleEdge {
    pub from: String,
    pub to: String,
    pub location: Location,
}

/// A dependency cycle, starting at its smallest name: each service depends
/// on the next, the last on the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct CycleError {
    pub edges: Vec<CycleEdge>,
}

impl CycleError {
    /// `service-a → service-b → service-a`.
    pub fn path(&self) -> String {
        let mut names: Vec<&str> = self.edges.iter().map(|e| e.from.as_str()).collect();
        if let Some(first) = self.edges.first() {
            names.push(&first.from);
        }
        names.join(" → ")
    }
}

impl fmt::Display for CycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dependency cycle: {}", self.path())?;
        for edge in &self.edges {
            write!(
                f,
                "\n  {} → {} at {}:{}",
                edge.from, edge.to, edge.location.file, edge.location.line
            )?;
        }
        Ok(())
    }
}

/// `services` (each once), every one after the services among them it
/// depends on, directly or through services not in the list; among those
/// whose dependencies are placed, the smallest name first. A name the
/// catalog does not hold has no dependencies. A cycle anywhere in the
/// catalog is an error (a loaded catalog has none; one built by hand may).
pub fn promotion_order(catalog: &Catalog, services: &[String]) -> Result<Vec<String>, CycleError> {
    if let Some(cycle) = find_cycle(catalog) {
        return Err(cycle);
    }
    let wanted: BTreeSet<&str> = services.iter().map(String::as_str).collect();
    // For each wanted service, the wanted services it reaches.
    let mut waits_for: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &name in &wanted {
        let reached = reachable(catalog, name);
        let before: BTreeSet<&str> = reached
            .into_iter()
            .filter(|r| *r != name && wanted.contains(r))
            .collect();
        for &dep in &before {
            dependents.entry(dep).or_default().push(name);
        }
        waits_for.insert(name, before);
    }
    let mut ready: BTreeSet<&str> = waits_for
        .iter()
        .filter(|(_, deps)| deps.is_empty())
        .map(|(name, _)| *name)
        .collect();
    let mut remaining: BTreeMap<&str, usize> =
        waits_for.iter().map(|(n, d)| (*n, d.len())).collect();
    let mut order = Vec::with_capacity(wanted.len());
    while let Some(name) = ready.pop_first() {
        order.push(name.to_string());
        for &dependent in dependents.get(name).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(count) = remaining.get_mut(dependent) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.insert(dependent);
                }
            }
        }
    }
    if order.len() < wanted.len() {
        // Only a cycle stalls the order, and there is none.
        return Err(CycleError { edges: Vec::new() });
    }
    Ok(order)
}

/// The whole catalog's promotion order.
pub fn catalog_order(catalog: &Catalog) -> Result<Vec<String>, CycleError> {
    let all: Vec<String> = catalog.names().map(str::to_string).collect();
    promotion_order(catalog, &all)
}

/// Every service `name` depends on, directly or not (and `name` itself).
fn reachable<'c>(catalog: &'c Catalog, name: &'c str) -> BTreeSet<&'c str> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![name];
    while let Some(at) = stack.pop() {
        if !seen.insert(at) {
            continue;
        }
        if let Some(service) = catalog.get(at) {
            stack.extend(service.dependencies.iter().map(|d| d.name.as_str()));
        }
    }
    seen
}

/// The first cycle of the catalog (depth first, names in order), rotated
/// to start at its smallest name; `None` when there is none.
pub fn find_cycle(catalog: &Catalog) -> Option<CycleError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for start in catalog.names() {
        if marks.contains_key(start) {
            continue;
        }
        // The path from `start`, each with the dependencies still to visit.
        let mut path: Vec<(&str, Vec<&str>)> = Vec::new();
        marks.insert(start, Mark::Open);
        path.push((start, next_of(catalog, start)));
        while let Some((at, todo)) = path.last_mut() {
            let at = *at;
            let Some(next) = todo.pop() else {
                marks.insert(at, Mark::Done);
                path.pop();
                continue;
            };
            match marks.get(next) {
                Some(Mark::Done) => {}
                Some(Mark::Open) => {
                    let from = path.iter().position(|(n, _)| *n == next).unwrap_or(0);
                    let names: Vec<&str> = path[from..].iter().map(|(n, _)| *n).collect();
                    return Some(cycle_of(catalog, &names));
                }
                None => {
                    marks.insert(next, Mark::Open);
                    path.push((next, next_of(catalog, next)));
                }
            }
        }
    }
    None
}

/// The known dependencies of `name`, largest first (popped smallest first).
fn next_of<'c>(catalog: &'c Catalog, name: &str) -> Vec<&'c str> {
    let mut names = catalog
        .get(name)
        .map(|s| s.dependency_names())
        .unwrap_or_default();
    names.retain(|n| catalog.get(n).is_some());
    names.reverse();
    names
}

fn cycle_of(catalog: &Catalog, names: &[&str]) -> CycleError {
    let smallest = names
        .iter()
        .enumerate()
        .min_by_key(|(_, n)| **n)
        .map_or(0, |(i, _)| i);
    let mut rotated = names.to_vec();
    rotated.rotate_left(smallest);
    let edges = rotated
        .iter()
        .enumerate()
        .map(|(i, from)| {
            let to = rotated[(i + 1) % rotated.len()];
            let location = catalog
                .get(from)
                .and_then(|s| s.dependencies.iter().find(|d| d.name == to))
                .map(|d| d.location.clone())
                .unwrap_or_else(|| Location {
                    file: String::new(),
                    line: 0,
                    column: 0,
                });
            CycleEdge {
                from: from.to_string(),
                to: to.to_string(),
                location,
            }
        })
        .collect();
    CycleError { edges }
}

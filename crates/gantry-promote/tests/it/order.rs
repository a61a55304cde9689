//! Promotion order: dependencies first, ties by name, deterministic.

use std::collections::BTreeSet;

use proptest::prelude::*;

use gantry_promote::catalog::{
    Catalog, ComplianceMode, Dependency, DependencyKind, Location, Service,
};
use gantry_promote::order::{catalog_order, find_cycle, promotion_order};

fn at() -> Location {
    Location {
        file: "test.yml".into(),
        line: 1,
        column: 1,
    }
}

/// A catalog of `(name, [(dependency, optional)])`, built by hand.
fn catalog(services: &[(&str, &[(&str, bool)])]) -> Catalog {
    let mut services: Vec<Service> = services
        .iter()
        .map(|(name, deps)| Service {
            name: name.to_string(),
            api_version: "v1".into(),
            compliance_mode: ComplianceMode::Compliant,
            dependencies: deps
                .iter()
                .map(|(d, optional)| Dependency {
                    name: d.to_string(),
                    kind: DependencyKind::Runtime,
                    optional: *optional,
                    location: at(),
                })
                .collect(),
            location: at(),
        })
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    Catalog { services }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn dependencies_come_first_and_ties_go_by_name() {
    let c = catalog(&[
        ("web", &[("api", false), ("auth", false)]),
        ("api", &[("db", false)]),
        ("auth", &[]),
        ("db", &[]),
        ("cron", &[]),
    ]);
    assert_eq!(
        catalog_order(&c).unwrap(),
        ["auth", "cron", "db", "api", "web"]
    );
}

#[test]
fn optional_dependencies_order_too() {
    let c = catalog(&[("a", &[("b", true)]), ("b", &[])]);
    assert_eq!(catalog_order(&c).unwrap(), ["b", "a"]);
}

#[test]
fn a_subset_keeps_dependencies_through_services_left_out() {
    // a → m → z: promoting a and z puts z first although m is not promoted.
    let c = catalog(&[("a", &[("m", false)]), ("m", &[("z", false)]), ("z", &[])]);
    assert_eq!(
        promotion_order(&c, &names(&["a", "z"])).unwrap(),
        ["z", "a"]
    );
    // Without a path between them, names decide.
    let c = catalog(&[("a", &[("y", false)]), ("b", &[]), ("y", &[])]);
    assert_eq!(
        promotion_order(&c, &names(&["b", "a"])).unwrap(),
        ["a", "b"]
    );
}

#[test]
fn each_service_is_placed_once_and_unknown_names_go_by_name() {
    let c = catalog(&[("a", &[("b", false)]), ("b", &[])]);
    assert_eq!(
        promotion_order(&c, &names(&["a", "zz", "b", "a"])).unwrap(),
        ["b", "a", "zz"]
    );
}

#[test]
fn a_cycle_in_a_hand_built_catalog_is_an_error_naming_it() {
    let c = catalog(&[
        ("a", &[("b", false)]),
        ("b", &[("c", false)]),
        ("c", &[("b", true)]),
    ]);
    let err = promotion_order(&c, &names(&["a"])).unwrap_err();
    assert_eq!(err.path(), "b → c → b");
    assert_eq!(find_cycle(&c), Some(err));
    assert_eq!(
        find_cycle(&catalog(&[("a", &[("b", false)]), ("b", &[])])),
        None
    );
}

/// A random acyclic catalog: service `i` may depend only on services with
/// a smaller index, and names are a permutation so index order is not name
/// order.
/// Services with their dependencies and whether each is optional.
type Services = Vec<(String, Vec<(String, bool)>)>;

fn acyclic() -> impl Strategy<Value = (Services, Vec<usize>)> {
    (1usize..12).prop_flat_map(|n| {
        let names = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
        let edges =
            proptest::collection::vec(proptest::collection::vec((0..n, any::<bool>()), 0..4), n);
        let subset = proptest::collection::vec(0..n, 0..n + 2);
        (names, edges, subset).prop_map(move |(perm, edges, subset)| {
            let name = |i: usize| format!("s{:02}", perm[i]);
            let services = (0..n)
                .map(|i| {
                    let mut deps: Vec<(String, bool)> = edges[i]
                        .iter()
                        .filter(|(j, _)| *j < i)
                        .map(|(j, o)| (name(*j), *o))
                        .collect();
                    deps.sort();
                    deps.dedup_by(|a, b| a.0 == b.0);
                    (name(i), deps)
                })
                .collect();
            (services, subset)
        })
    })
}

fn build(services: &[(String, Vec<(String, bool)>)]) -> Catalog {
    let borrowed: Vec<(&str, Vec<(&str, bool)>)> = services
        .iter()
        .map(|(n, d)| {
            (
                n.as_str(),
                d.iter().map(|(x, o)| (x.as_str(), *o)).collect(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[(&str, bool)])> =
        borrowed.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    catalog(&refs)
}

/// Every service `name` reaches through dependencies (not itself).
fn reaches(c: &Catalog, name: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![name.to_string()];
    while let Some(at) = stack.pop() {
        for d in c
            .get(&at)
            .map(|s| s.dependencies.clone())
            .unwrap_or_default()
        {
            if seen.insert(d.name.clone()) {
                stack.push(d.name);
            }
        }
    }
    seen
}

proptest! {
    #[test]
    fn the_order_is_the_smallest_name_first_topological_order(
        (services, subset) in acyclic()
    ) {
        let c = build(&services);
        let wanted: Vec<String> = subset.iter().map(|i| services[*i].0.clone()).collect();
        let order = promotion_order(&c, &wanted).unwrap();
        // Each wanted service exactly once.
        let set: BTreeSet<String> = wanted.iter().cloned().collect();
        prop_assert_eq!(order.len(), set.len());
        prop_assert_eq!(order.iter().cloned().collect::<BTreeSet<_>>(), set.clone());
        // At each step: every wanted service it reaches is already placed,
        // and it is the smallest name that could be placed.
        let mut placed = BTreeSet::new();
        for name in &order {
            let ready: Vec<&String> = set
                .iter()
                .filter(|s| !placed.contains(*s))
                .filter(|s| reaches(&c, s).iter().filter(|r| set.contains(*r)).all(|r| placed.contains(r)))
                .collect();
            prop_assert_eq!(ready.first().copied(), Some(name));
            placed.insert(name.clone());
        }
        // The input order does not matter.
        let mut reversed = wanted.clone();
        reversed.reverse();
        prop_assert_eq!(promotion_order(&c, &reversed).unwrap(), order);
    }
}

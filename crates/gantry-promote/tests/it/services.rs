//! The `gantry services` report and its renderings.

use gantry_promote::catalog::CatalogError;
use gantry_promote::services::{ServicesError, render_dot, render_human, render_mermaid, report};

use crate::common::catalog_repo;

/// The seed's three services plus an optional dependency.
fn seed() -> tempfile::TempDir {
    catalog_repo(&[
        (
            "service-a",
            "compliant",
            &[
                "runtime: [service-b]",
                "security:",
                "  - { name: service-c, optional: true }",
            ],
        ),
        ("service-b", "compliant", &["data: [service-c]"]),
        ("service-c", "sandbox", &[]),
    ])
}

fn recorded(service: &str) -> Vec<(String, String)> {
    let pairs: &[(&str, &str)] = match service {
        "service-b" => &[
            ("compliant", "1.0.0"),
            ("sandbox", "1.2.0"),
            ("sandbox", "1.1.0"),
            ("sandbox", "1.2.0"),
        ],
        "service-c" => &[("retired", "0.9.0")],
        _ => &[],
    };
    pairs
        .iter()
        .map(|(s, v)| (s.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_report_lists_services_states_and_order() {
    let dir = seed();
    let report = report(dir.path(), &recorded).unwrap();
    assert_eq!(report.version, 1);
    assert_eq!(report.states, ["sandbox", "compliance_ready", "compliant"]);
    assert_eq!(report.order, ["service-c", "service-b", "service-a"]);
    let b = &report.services[1];
    assert_eq!(b.name, "service-b");
    let states: Vec<(&str, Vec<&str>)> = b
        .states
        .iter()
        .map(|s| {
            (
                s.state.as_str(),
                s.versions.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("sandbox", vec!["1.1.0", "1.2.0"]),
            ("compliance_ready", vec![]),
            ("compliant", vec!["1.0.0"]),
        ]
    );
    // A recorded state the machine no longer has is kept, after the others.
    let c = &report.services[2];
    assert_eq!(c.states.last().map(|s| s.state.as_str()), Some("retired"));
    insta::assert_json_snapshot!("report_json", report);
}

#[test]
fn the_renderings_are_stable() {
    let dir = seed();
    let report = report(dir.path(), &recorded).unwrap();
    insta::assert_snapshot!("human", render_human(&report));
    insta::assert_snapshot!("dot", render_dot(&report));
    insta::assert_snapshot!("mermaid", render_mermaid(&report));
}

#[test]
fn an_empty_catalog_says_where_services_go() {
    let dir = crate::common::repo(&[]);
    let report = report(dir.path(), &|_| Vec::new()).unwrap();
    assert!(report.services.is_empty() && report.order.is_empty());
    assert_eq!(
        render_human(&report),
        "no services: define them in .gantry/services/*.yml\n"
    );
}

#[test]
fn names_that_need_quoting_stay_valid_in_dot_and_mermaid() {
    let dir = catalog_repo(&[
        ("a@1+b", "sandbox", &["runtime: [x.y]"]),
        ("x.y", "sandbox", &[]),
    ]);
    let report = report(dir.path(), &|_| Vec::new()).unwrap();
    let dot = render_dot(&report);
    assert!(
        dot.contains("\"a@1+b\" -> \"x.y\" [label=\"runtime\"];"),
        "{dot}"
    );
    let mermaid = render_mermaid(&report);
    assert!(mermaid.contains("  s0 -->|runtime| s1\n"), "{mermaid}");
}

#[test]
fn catalog_and_configuration_errors_are_reported() {
    let dir = catalog_repo(&[("service-a", "compliant", &["runtime: [service-a]"])]);
    assert!(matches!(
        report(dir.path(), &|_| Vec::new()),
        Err(ServicesError::Catalog(CatalogError::Invalid(_)))
    ));
    let dir = seed();
    crate::common::write(dir.path(), ".gantry/promotion.yml", "stats: {}\n");
    assert!(matches!(
        report(dir.path(), &|_| Vec::new()),
        Err(ServicesError::Config(_))
    ));
}

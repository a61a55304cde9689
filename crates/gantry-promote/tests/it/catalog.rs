//! Reading `.gantry/services/*.yml`: the seed's template, and every
//! problem at its file:line:col.

use gantry_promote::catalog::{
    Catalog, CatalogError, ComplianceMode, DependencyKind, Location, ProblemKind,
};

use crate::common::{catalog_problems, catalog_repo, repo, service, service_path};

#[test]
fn the_seed_template_reads_into_a_sorted_catalog() {
    let dir = repo(&[
        (
            ".gantry/services/a.yml",
            "service:\n  name: service-a\n  spec:\n    api_version: v1\n    compliance_mode: compliant\n    dependencies:\n      runtime: [service-b]\n      data: []\n      security:\n        - service-c\n        - { name: service-d, optional: true }\n",
        ),
        (
            ".gantry/services/b.yaml",
            &service("service-b", "compliant", &[]),
        ),
        (
            ".gantry/services/c.yml",
            &service(
                "service-c",
                "sandbox",
                &["runtime:", "data:", "security: []"],
            ),
        ),
        (
            ".gantry/services/d.yml",
            &service("service-d", "sandbox", &[]),
        ),
        (".gantry/services/README.md", "not a service"),
    ]);
    let catalog = Catalog::load(dir.path()).unwrap();
    let names: Vec<&str> = catalog.names().collect();
    assert_eq!(names, ["service-a", "service-b", "service-c", "service-d"]);
    let a = catalog.get("service-a").unwrap();
    assert_eq!(a.api_version, "v1");
    assert_eq!(a.compliance_mode, ComplianceMode::Compliant);
    assert_eq!(
        a.location,
        Location {
            file: ".gantry/services/a.yml".into(),
            line: 2,
            column: 9
        }
    );
    let deps: Vec<(&str, DependencyKind, bool, usize, usize)> = a
        .dependencies
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.kind,
                d.optional,
                d.location.line,
                d.location.column,
            )
        })
        .collect();
    assert_eq!(
        deps,
        [
            ("service-b", DependencyKind::Runtime, false, 7, 17),
            ("service-c", DependencyKind::Security, false, 10, 11),
            ("service-d", DependencyKind::Security, true, 11, 19),
        ]
    );
    assert_eq!(
        catalog.get("service-c").unwrap().compliance_mode,
        ComplianceMode::Sandbox
    );
    assert!(catalog.get("service-c").unwrap().dependencies.is_empty());
    assert!(catalog.get("service-e").is_none());
}

#[test]
fn no_services_folder_is_an_empty_catalog() {
    let dir = repo(&[]);
    assert!(Catalog::load(dir.path()).unwrap().services.is_empty());
}

#[test]
fn an_unknown_key_is_located_with_a_did_you_mean() {
    let dir = repo(&[(
        ".gantry/services/a.yml",
        "service:\n  name: service-a\n  spec:\n    api_version: v1\n    compliance_mode: sandbox\n    dependancies:\n      runtime: []\n",
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/a.yml:6:5: unknown key `dependancies` in `service.spec` (did you mean `dependencies`?)"
        ]
    );
}

#[test]
fn an_unknown_key_without_a_close_one_lists_the_keys() {
    let dir = repo(&[(
        ".gantry/services/a.yml",
        "service:\n  name: service-a\n  owner: team-x\n  spec:\n    api_version: v1\n    compliance_mode: sandbox\n",
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/a.yml:3:3: unknown key `owner` in `service` (expected one of: name, spec)"
        ]
    );
}

#[test]
fn a_wrong_type_is_located() {
    let dir = repo(&[(
        ".gantry/services/a.yml",
        "service:\n  name: service-a\n  spec:\n    api_version: 1\n    compliance_mode: sandbox\n    dependencies:\n      runtime: service-b\n",
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/a.yml:4:18: `service.spec.api_version` must be a string, not a number",
            ".gantry/services/a.yml:7:16: `service.spec.dependencies.runtime` must be a list, not a string",
        ]
    );
}

#[test]
fn a_missing_required_key_is_located_at_its_mapping() {
    let dir = repo(&[(
        ".gantry/services/a.yml",
        "service:\n  name: service-a\n  spec:\n    compliance_mode: sandbox\n",
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [".gantry/services/a.yml:4:5: `service.spec` is missing the required key `api_version`"]
    );
    let empty = repo(&[(".gantry/services/a.yml", "")]);
    assert_eq!(
        catalog_problems(empty.path()),
        [".gantry/services/a.yml:1:1: the file must be a mapping, not empty"]
    );
}

#[test]
fn a_bad_compliance_mode_suggests_the_closest() {
    let dir = repo(&[(
        ".gantry/services/a.yml",
        &service("service-a", "complaint", &[]),
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/a.yml:5:22: invalid compliance_mode `complaint`: expected `sandbox` or `compliant` (did you mean `compliant`?)"
        ]
    );
}

#[test]
fn an_unknown_dependency_suggests_a_service() {
    let dir = catalog_repo(&[
        ("service-a", "compliant", &["runtime: [service-bb]"]),
        ("service-b", "compliant", &["data: [billing]"]),
    ]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/service-a.yml:7:17: unknown service `service-bb` in `dependencies.runtime` (did you mean `service-b`?)",
            ".gantry/services/service-b.yml:7:14: unknown service `billing` in `dependencies.data` (services are defined in .gantry/services/*.yml; known: service-a, service-b)",
        ]
    );
}

#[test]
fn a_service_depending_on_itself_is_refused() {
    let dir = catalog_repo(&[(
        "service-a",
        "compliant",
        &["security:", "  - { name: service-a, optional: true }"],
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [".gantry/services/service-a.yml:8:19: service `service-a` depends on itself"]
    );
}

#[test]
fn a_name_defined_in_two_files_points_at_both() {
    let dir = repo(&[
        (
            ".gantry/services/a.yml",
            &service("service-a", "sandbox", &[]),
        ),
        (
            ".gantry/services/b.yml",
            &service("service-a", "compliant", &[]),
        ),
    ]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/b.yml:2:9: service `service-a` is already defined at .gantry/services/a.yml:2:9"
        ]
    );
}

#[test]
fn a_name_twice_in_one_list_is_refused() {
    let dir = catalog_repo(&[
        (
            "service-a",
            "compliant",
            &["runtime: [service-b, service-b]"],
        ),
        ("service-b", "compliant", &[]),
    ]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/service-a.yml:7:28: `service-b` is listed twice in `dependencies.runtime` (first at .gantry/services/service-a.yml:7:17)"
        ]
    );
}

#[test]
fn the_same_dependency_in_two_lists_is_allowed() {
    let dir = catalog_repo(&[
        (
            "service-a",
            "compliant",
            &["runtime: [service-b]", "data: [service-b]"],
        ),
        ("service-b", "compliant", &[]),
    ]);
    let catalog = Catalog::load(dir.path()).unwrap();
    assert_eq!(catalog.get("service-a").unwrap().dependencies.len(), 2);
}

#[test]
fn an_invalid_name_is_refused() {
    let dir = catalog_repo(&[("bad", "sandbox", &[])]);
    let path = dir.path().join(service_path("bad"));
    std::fs::write(&path, service("../etc", "sandbox", &[])).unwrap();
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/bad.yml:2:9: invalid service name `../etc`: use letters, digits and `-_.+@`, at most 128 characters, not `.` or `..`"
        ]
    );
}

#[test]
fn a_duplicate_key_points_at_the_first() {
    let dir = repo(&[(
        ".gantry/services/a.yml",
        "service:\n  name: service-a\n  name: service-b\n  spec:\n    api_version: v1\n    compliance_mode: sandbox\n",
    )]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/a.yml:3:3: duplicate key `name` in `service` (first at .gantry/services/a.yml:2:3)"
        ]
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    let dir = repo(&[(".gantry/services/a.yml", "service:\n  name: [unclosed\n")]);
    let problems = catalog_problems(dir.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(".gantry/services/a.yml:"),
        "{problems:?}"
    );
}

#[test]
fn every_problem_of_every_file_is_collected_in_file_order() {
    let dir = repo(&[
        (
            ".gantry/services/a.yml",
            &service("service-a", "sandbx", &["runtime: [service-z]"]),
        ),
        (".gantry/services/b.yml", "service:\n  nme: service-b\n"),
    ]);
    let problems = catalog_problems(dir.path());
    assert_eq!(
        problems,
        [
            ".gantry/services/a.yml:5:22: invalid compliance_mode `sandbx`: expected `sandbox` or `compliant` (did you mean `sandbox`?)",
            ".gantry/services/b.yml:2:3: unknown key `nme` in `service` (did you mean `name`?)",
            ".gantry/services/b.yml:2:3: `service` is missing the required key `name`",
            ".gantry/services/b.yml:2:3: `service` is missing the required key `spec`",
        ]
    );
}

#[test]
fn problems_carry_their_kind_and_source() {
    let dir = catalog_repo(&[("service-a", "compliant", &["runtime: [service-a]"])]);
    let Err(CatalogError::Invalid(problems)) = Catalog::load(dir.path()) else {
        panic!("expected problems");
    };
    let p = &problems.0[0];
    assert!(matches!(&p.kind, ProblemKind::SelfDependency { name } if name == "service-a"));
    assert_eq!(p.text.slice(p.span), "service-a");
    assert_eq!(p.to_diagnostic().code, "self-dependency");
}

#[test]
fn a_cycle_prints_the_whole_cycle_with_each_edge() {
    let dir = catalog_repo(&[
        ("service-a", "compliant", &["runtime: [service-b]"]),
        ("service-b", "compliant", &["data: [service-c]"]),
        (
            "service-c",
            "compliant",
            &["security:", "  - { name: service-a, optional: true }"],
        ),
        ("service-d", "compliant", &["runtime: [service-a]"]),
    ]);
    let err = Catalog::load(dir.path()).unwrap_err();
    assert!(matches!(err, CatalogError::Cycle(_)));
    assert_eq!(
        err.to_string(),
        "dependency cycle: service-a → service-b → service-c → service-a\n  service-a → service-b at .gantry/services/service-a.yml:7\n  service-b → service-c at .gantry/services/service-b.yml:7\n  service-c → service-a at .gantry/services/service-c.yml:8"
    );
}

#[test]
fn a_two_service_cycle_starts_at_the_smaller_name() {
    let dir = catalog_repo(&[
        ("service-b", "compliant", &["runtime: [service-a]"]),
        ("service-a", "compliant", &["runtime: [service-b]"]),
    ]);
    let CatalogError::Cycle(cycle) = Catalog::load(dir.path()).unwrap_err() else {
        panic!("expected a cycle");
    };
    assert_eq!(cycle.path(), "service-a → service-b → service-a");
}

#[cfg(unix)]
#[test]
fn a_service_file_that_is_a_fifo_is_reported_not_waited_on() {
    let dir = catalog_repo(&[("service-a", "sandbox", &[])]);
    nix_mkfifo(&dir.path().join(".gantry/services/b.yml"));
    let problems = catalog_problems(dir.path());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(".gantry/services/b.yml:1:1: failed to read the file:"),
        "{problems:?}"
    );
}

#[cfg(unix)]
fn nix_mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn a_services_folder_linked_out_of_the_repository_is_refused() {
    let outside = catalog_repo(&[("service-a", "sandbox", &[])]);
    let dir = repo(&[(".gantry/keep", "")]);
    std::os::unix::fs::symlink(
        outside.path().join(".gantry/services"),
        dir.path().join(".gantry/services"),
    )
    .unwrap();
    assert!(matches!(
        Catalog::load(dir.path()),
        Err(CatalogError::Escape { .. })
    ));
}

#[test]
fn a_dependency_on_a_service_with_its_own_problem_is_not_unknown() {
    // service-b's file has a typo; service-a's dependency on it is fine, so
    // only the typo is reported.
    let dir = repo(&[
        (
            ".gantry/services/a.yml",
            &service("service-a", "compliant", &["runtime: [service-b]"]),
        ),
        (
            ".gantry/services/b.yml",
            "service:\n  name: service-b\n  spec:\n    api_version: v1\n    compliance_mod: sandbox\n",
        ),
    ]);
    assert_eq!(
        catalog_problems(dir.path()),
        [
            ".gantry/services/b.yml:4:5: `service.spec` is missing the required key `compliance_mode`",
            ".gantry/services/b.yml:5:5: unknown key `compliance_mod` in `service.spec` (did you mean `compliance_mode`?)",
        ]
    );
}

mod never_panics {
    use std::sync::Arc;

    use proptest::prelude::*;

    use gantry_promote::catalog::{Catalog, CatalogError};
    use gantry_workflow::SourceFile;

    /// Text made of the pieces service files are made of, in any order.
    fn yamlish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("service:\n".to_string()),
            Just("  name: a\n".to_string()),
            Just("  spec:\n".to_string()),
            Just("    api_version: v1\n".to_string()),
            Just("    compliance_mode: sandbox\n".to_string()),
            Just("    dependencies:\n".to_string()),
            Just("      runtime: [a, b]\n".to_string()),
            Just("      security:\n        - { name: b, optional: maybe }\n".to_string()),
            Just("- ".to_string()),
            Just("{".to_string()),
            Just("&x ".to_string()),
            Just("*x\n".to_string()),
            "[a-z:#\\- \n\\[\\]{}]{0,12}",
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn reading_any_service_text_reports_inside_the_file(a in yamlish(), b in yamlish()) {
            let files = [
                SourceFile::new(".gantry/services/a.yml", a),
                SourceFile::new(".gantry/services/b.yml", b),
            ];
            match Catalog::parse(&files) {
                Ok(_) | Err(CatalogError::Cycle(_)) => {}
                Err(CatalogError::Invalid(problems)) => {
                    prop_assert!(!problems.0.is_empty());
                    for p in &problems.0 {
                        let file: &Arc<SourceFile> = &p.text;
                        prop_assert!(p.span.end <= file.text().len());
                        prop_assert!(p.location.line >= 1 && p.location.column >= 1);
                    }
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}

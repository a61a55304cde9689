//! `.gantry/promotion.yml`: the seed default, every gate kind, keys and
//! approvers, and every problem at its file:line:col.

use jiff::SignedDuration;

use gantry_promote::config::{
    Check, ConfigError, GateType, Level, PromotionConfig, Requirement, StateSpec, parse_duration,
};

use crate::common::{config_problems, config_repo, public_key, repo};

fn state(name: &str, to: &[&str], requirements: &[&str]) -> StateSpec {
    StateSpec {
        name: name.into(),
        allowed_transitions: to.iter().map(|s| s.to_string()).collect(),
        requirements: requirements
            .iter()
            .map(|g| Requirement {
                gate: g.to_string(),
                level: Level::Required,
                location: None,
            })
            .collect(),
    }
}

/// The machine of the seed, section 3.2.
fn seed_machine() -> Vec<StateSpec> {
    vec![
        state("sandbox", &["compliance_ready"], &[]),
        state(
            "compliance_ready",
            &["compliant"],
            &["all_tests_passing", "sast_clean", "dependencies_compliant"],
        ),
        state(
            "compliant",
            &["sandbox"],
            &["approved_promotion", "evidence_collected"],
        ),
    ]
}

#[test]
fn no_file_is_exactly_the_seed_machine() {
    let dir = repo(&[]);
    let config = PromotionConfig::load(dir.path()).unwrap();
    assert_eq!(config.states, seed_machine());
    assert_eq!(PromotionConfig::seed_default().states, seed_machine());
    assert_eq!(config.file, None);
    assert_eq!(config.initial().name, "sandbox");
    assert_eq!(config.rank("compliant"), Some(2));
    assert_eq!(config.rank("production"), None);
    assert_eq!(
        config
            .state("compliant")
            .map(|s| s.allowed_transitions.clone()),
        Some(vec!["sandbox".to_string()])
    );
    assert!(
        config.gates.is_empty() && config.trusted_keys.is_empty() && config.approvers.is_empty()
    );
    assert_eq!(config.approvals_required, 1);
    assert!(config.prevent_self_approval);
}

#[test]
fn built_in_gates_have_their_defaults() {
    let config = PromotionConfig::seed_default();
    let gate = |name: &str| config.gate(name).unwrap();
    assert!(matches!(
        gate("all_tests_passing").check,
        Check::AllTestsPassing
    ));
    assert!(
        matches!(gate("sast_clean").check, Check::SastClean { severity } if severity == "high")
    );
    assert!(
        matches!(gate("audit_clean").check, Check::AuditClean { severity } if severity == "high")
    );
    assert!(
        matches!(gate("no_critical_vulns").check, Check::NoCriticalVulns { severity } if severity == "critical")
    );
    assert!(matches!(
        gate("provenance_verified").check,
        Check::ProvenanceVerified
    ));
    assert!(matches!(
        gate("evidence_collected").check,
        Check::EvidenceCollected { kinds } if kinds == ["sbom", "vulns", "provenance", "test-result"]
    ));
    assert!(matches!(
        gate("dependencies_compliant").check,
        Check::DependenciesCompliant
    ));
    assert!(matches!(
        gate("soak_time").check,
        Check::SoakTime { duration } if duration == SignedDuration::from_hours(24)
    ));
    let approved = gate("approved_promotion");
    assert_eq!(approved.gate_type, GateType::Manual);
    assert!(
        matches!(approved.check, Check::ApprovedPromotion { required: 1, approvers } if approvers.is_empty())
    );
    assert_eq!(gate("sast_clean").gate_type, GateType::Blocking);
    // Those need settings: only when configured.
    assert!(config.gate("window").is_none());
    assert!(config.gate("policy").is_none());
    assert!(config.gate("nonsense").is_none());
}

#[test]
fn an_empty_file_or_one_without_states_keeps_the_seed_states() {
    let dir = config_repo("");
    assert_eq!(
        PromotionConfig::load(dir.path()).unwrap().states,
        seed_machine()
    );
    let dir = config_repo("prevent_self_approval: false\n");
    let config = PromotionConfig::load(dir.path()).unwrap();
    assert_eq!(config.states, seed_machine());
    assert!(!config.prevent_self_approval);
    assert_eq!(config.file.as_deref(), Some(".gantry/promotion.yml"));
}

const FULL: &str = "\
states:
  sandbox:
    allowed_transitions: [compliance_ready]
    requirements: []
  compliance_ready:
    allowed_transitions: [compliant, sandbox]
    requirements:
      - all_tests_passing
      - { gate: sast_clean, level: recommended }
      - { gate: no_critical_vulns, level: required_if_present }
      - dependencies_compliant
      - provenance_verified
      - audit_clean
  compliant:
    allowed_transitions: [sandbox]
    requirements: [approved_promotion, evidence_collected, soak, freeze, org_policy]
gates:
  sast_clean: { type: blocking, severity: medium }
  audit_clean: { severity: info }
  no_critical_vulns: { type: blocking, severity: high }
  evidence_collected: { type: blocking, kinds: [sbom, test-result] }
  soak: { type: blocking, validator: soak_time, duration: 1h30m }
  freeze:
    type: blocking
    validator: window
    timezone: Europe/Berlin
    deny: [ \"Fri 16:00 - Mon 08:00\" ]
    allow: [ \"Mon-Fri 08:00-18:00\" ]
  org_policy: { type: policy, policy: compliance }
  approved_promotion: { type: manual, approvals_required: 2, approvers: [alice, bob] }
trusted_keys: [keys/ci.pub]
approvers:
  alice: keys/alice.pub
  bob: keys/bob.pub
  carol: keys/carol.pub
approvals_required: 1
prevent_self_approval: true
";

#[test]
fn every_gate_kind_reads_with_its_settings() {
    let dir = config_repo(FULL);
    let ci = public_key(dir.path(), "keys/ci.pub");
    for name in ["alice", "bob", "carol"] {
        public_key(dir.path(), &format!("keys/{name}.pub"));
    }
    let config = PromotionConfig::load(dir.path()).unwrap();
    let names: Vec<&str> = config.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["sandbox", "compliance_ready", "compliant"]);
    let ready = config.state("compliance_ready").unwrap();
    assert_eq!(ready.allowed_transitions, ["compliant", "sandbox"]);
    let levels: Vec<(&str, Level)> = ready
        .requirements
        .iter()
        .map(|r| (r.gate.as_str(), r.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("all_tests_passing", Level::Required),
            ("sast_clean", Level::Recommended),
            ("no_critical_vulns", Level::RequiredIfPresent),
            ("dependencies_compliant", Level::Required),
            ("provenance_verified", Level::Required),
            ("audit_clean", Level::Required),
        ]
    );
    let sast = ready.requirements[1].location.clone().unwrap();
    assert_eq!(
        (sast.file.as_str(), sast.line, sast.column),
        (".gantry/promotion.yml", 9, 17)
    );

    let gate = |name: &str| config.gate(name).unwrap();
    assert!(
        matches!(gate("sast_clean").check, Check::SastClean { severity } if severity == "medium")
    );
    assert!(
        matches!(gate("audit_clean").check, Check::AuditClean { severity } if severity == "info")
    );
    assert!(
        matches!(gate("no_critical_vulns").check, Check::NoCriticalVulns { severity } if severity == "high")
    );
    assert!(
        matches!(gate("evidence_collected").check, Check::EvidenceCollected { kinds } if kinds == ["sbom", "test-result"])
    );
    assert!(matches!(
        gate("soak").check,
        Check::SoakTime { duration } if duration == SignedDuration::from_mins(90)
    ));
    let freeze = gate("freeze");
    assert_eq!(freeze.gate_type, GateType::Blocking);
    let Check::Window(window) = freeze.check else {
        panic!("freeze is a window");
    };
    assert_eq!(window.tz_name, "Europe/Berlin");
    assert_eq!(window.deny.len(), 1);
    assert_eq!(window.allow.len(), 1);
    let policy = gate("org_policy");
    assert_eq!(policy.gate_type, GateType::Policy);
    assert!(matches!(policy.check, Check::Policy { policy } if policy == "compliance"));
    let approved = gate("approved_promotion");
    assert_eq!(approved.gate_type, GateType::Manual);
    assert!(matches!(
        approved.check,
        Check::ApprovedPromotion { required: 2, approvers } if approvers == ["alice", "bob"]
    ));
    // Built-ins not configured keep their defaults.
    assert!(matches!(
        gate("all_tests_passing").check,
        Check::AllTestsPassing
    ));

    assert_eq!(config.trusted_keys.len(), 1);
    assert_eq!(config.trusted_keys[0].path, "keys/ci.pub");
    assert_eq!(config.trusted_keys[0].key.key_id(), ci);
    let approvers: Vec<&str> = config.approvers.keys().map(String::as_str).collect();
    assert_eq!(approvers, ["alice", "bob", "carol"]);
}

#[test]
fn approved_promotion_defaults_to_every_approver_and_the_top_level_count() {
    let dir = config_repo("approvers:\n  alice: a.pub\n  bob: b.pub\napprovals_required: 2\n");
    public_key(dir.path(), "a.pub");
    public_key(dir.path(), "b.pub");
    let config = PromotionConfig::load(dir.path()).unwrap();
    assert!(matches!(
        config.gate("approved_promotion").unwrap().check,
        Check::ApprovedPromotion { required: 2, approvers } if approvers == ["alice", "bob"]
    ));
}

#[test]
fn durations_read_as_people_write_them() {
    let hours = |h: i64| SignedDuration::from_hours(h);
    assert_eq!(parse_duration("24h"), Ok(hours(24)));
    assert_eq!(parse_duration("90m"), Ok(SignedDuration::from_mins(90)));
    assert_eq!(parse_duration("2d"), Ok(hours(48)));
    assert_eq!(parse_duration("1h30m"), Ok(SignedDuration::from_mins(90)));
    assert_eq!(parse_duration("1w"), Ok(hours(168)));
    assert_eq!(parse_duration("PT2H"), Ok(hours(2)));
    assert!(
        parse_duration("1y")
            .unwrap_err()
            .contains("no fixed length")
    );
    assert!(parse_duration("2h ago").unwrap_err().contains("negative"));
    assert!(parse_duration("soon").is_err());
}

/// The problems of a promotion.yml, with the key files it names present.
fn problems(text: &str, keys: &[&str]) -> Vec<String> {
    let dir = config_repo(text);
    for k in keys {
        public_key(dir.path(), k);
    }
    config_problems(dir.path())
}

#[test]
fn an_unknown_key_anywhere_is_located_with_a_did_you_mean() {
    assert_eq!(
        problems("approval_required: 2\n", &[]),
        [
            ".gantry/promotion.yml:1:1: unknown key `approval_required` in `promotion.yml` (did you mean `approvals_required`?)"
        ]
    );
    assert_eq!(
        problems("states:\n  sandbox:\n    allowed_transition: []\n", &[]),
        [
            ".gantry/promotion.yml:3:5: unknown key `allowed_transition` in `states.sandbox` (did you mean `allowed_transitions`?)"
        ]
    );
    assert_eq!(
        problems("gates:\n  sast_clean: { severty: low }\n", &[]),
        [
            ".gantry/promotion.yml:2:17: unknown key `severty` in `gates.sast_clean` (did you mean `severity`?)"
        ]
    );
    assert_eq!(
        problems(
            "states:\n  a:\n    requirements:\n      - { gate: sast_clean, levle: recommended }\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:4:29: unknown key `levle` in an entry of states.a.requirements (did you mean `level`?)"
        ]
    );
}

#[test]
fn an_unknown_state_in_a_transition_is_located() {
    assert_eq!(
        problems(
            "states:\n  sandbox:\n    allowed_transitions: [compliant]\n  complaint: {}\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:3:27: unknown state `compliant` in `states.sandbox.allowed_transitions` (did you mean `complaint`?)"
        ]
    );
    assert_eq!(
        problems(
            "states:\n  sandbox:\n    allowed_transitions: [sandbox]\n",
            &[]
        ),
        [".gantry/promotion.yml:3:27: state `sandbox` lists a transition to itself"]
    );
    assert_eq!(
        problems("states: {}\n", &[]),
        [".gantry/promotion.yml:1:9: `states` declares no state"]
    );
}

#[test]
fn an_unknown_gate_in_a_requirement_is_located() {
    assert_eq!(
        problems("states:\n  a:\n    requirements: [all_test_passing]\n", &[]),
        [
            ".gantry/promotion.yml:3:20: unknown gate `all_test_passing` in `states.a.requirements`: not in `gates` and not a built-in gate (did you mean `all_tests_passing`?)"
        ]
    );
    assert_eq!(
        problems("states:\n  a:\n    requirements: [window]\n", &[]),
        [
            ".gantry/promotion.yml:3:20: unknown gate `window` in `states.a.requirements`: not in `gates` and not a built-in gate (configure `window` under `gates:` with its settings)"
        ]
    );
    assert_eq!(
        problems(
            "states:\n  a:\n    requirements: [sast_clean, { gate: sast_clean }]\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:3:40: `sast_clean` is listed twice in `states.a.requirements` (first at .gantry/promotion.yml:3:20)"
        ]
    );
}

#[test]
fn bad_gate_settings_are_located() {
    assert_eq!(
        problems("gates:\n  soak: { validator: soak_tme }\n", &[]),
        [
            ".gantry/promotion.yml:2:22: unknown validator `soak_tme` for gate `soak` (did you mean `soak_time`?)"
        ]
    );
    assert_eq!(
        problems("gates:\n  soak: { duration: 24h }\n", &[]),
        [
            ".gantry/promotion.yml:2:3: gate `soak` is not a built-in gate, so it needs a `validator` (add `validator: soak_time`?)"
        ]
    );
    assert_eq!(
        problems("gates:\n  sast_clean: { type: blocker }\n", &[]),
        [
            ".gantry/promotion.yml:2:23: invalid `gates.sast_clean.type` `blocker`: expected blocking, manual, policy (did you mean `blocking`?)"
        ]
    );
    assert_eq!(
        problems("gates:\n  sast_clean: { severity: critical }\n", &[]),
        [
            ".gantry/promotion.yml:2:27: invalid `gates.sast_clean.severity` `critical`: expected info, low, medium, high"
        ]
    );
    assert_eq!(
        problems(
            "gates:\n  soak: { validator: soak_time, duration: 3 months }\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:2:43: invalid duration `3 months`: years and months have no fixed length; use weeks, days, hours or minutes (write it like 24h, 90m, 2d or 1h30m)"
        ]
    );
    assert_eq!(
        problems(
            "gates:\n  freeze: { validator: window, timezone: Mars/Olympus }\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:2:3: invalid window: unknown time zone `Mars/Olympus`: failed to find time zone `Mars/Olympus` in time zone database (use an IANA name such as `Europe/Berlin` or `UTC`)"
        ]
    );
    assert_eq!(
        problems("gates:\n  freeze: { validator: window }\n", &[]),
        [".gantry/promotion.yml:2:11: `gates.freeze` is missing the required key `timezone`"]
    );
    assert_eq!(
        problems(
            "gates:\n  org: { validator: policy, policy: compliance.rego }\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:2:37: invalid `gates.org.policy` `compliance.rego`: expected the stem of a file in .gantry/policies/ (`compliance` for compliance.rego)"
        ]
    );
    assert_eq!(
        problems(
            "gates:\n  evidence_collected: { kinds: [sbom, SBOM, sbom] }\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:2:45: `sbom` is listed twice in `gates.evidence_collected.kinds` (first at .gantry/promotion.yml:2:33)"
        ]
    );
    assert_eq!(
        problems(
            "states:\n  a:\n    requirements:\n      - { gate: sast_clean, level: optional }\n",
            &[]
        ),
        [
            ".gantry/promotion.yml:4:36: invalid `level` `optional`: expected required, required_if_present, recommended"
        ]
    );
}

#[test]
fn approvers_and_counts_are_checked() {
    assert_eq!(
        problems(
            "approvers:\n  alice: a.pub\ngates:\n  approved_promotion: { approvers: [alice, alcie] }\n",
            &["a.pub"]
        ),
        [
            ".gantry/promotion.yml:4:44: unknown approver `alcie` in `gates.approved_promotion.approvers` (did you mean `alice`?)"
        ]
    );
    assert_eq!(
        problems(
            "approvers:\n  alice: a.pub\napprovals_required: 2\n",
            &["a.pub"]
        ),
        [
            ".gantry/promotion.yml:3:21: `approvals_required` requires 2 approvals but names only 1 approvers"
        ]
    );
    assert_eq!(
        problems("approvals_required: 0\n", &[]),
        [
            ".gantry/promotion.yml:1:21: invalid `approvals_required` `0`: expected a whole number of at least 1"
        ]
    );
    assert_eq!(
        problems("prevent_self_approval: yes\n", &[]),
        [
            ".gantry/promotion.yml:1:24: `prevent_self_approval` must be `true` or `false`, not a string"
        ]
    );
}

#[test]
fn key_files_are_read_and_checked() {
    let missing = problems("trusted_keys: [keys/ci.pub]\n", &[]);
    assert_eq!(missing.len(), 1);
    assert!(
        missing[0].starts_with(
            ".gantry/promotion.yml:1:16: failed to read the public key `keys/ci.pub`:"
        ),
        "{missing:?}"
    );
    let dir = config_repo("trusted_keys: [ci.pub, ../../etc/passwd]\n");
    crate::common::write(&dir.path().join(".gantry"), "ci.pub", "not a key\n");
    let found = config_problems(dir.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0]
            .starts_with(".gantry/promotion.yml:1:16: failed to read the public key `ci.pub`: "),
        "{found:?}"
    );
    assert_eq!(
        found[1],
        ".gantry/promotion.yml:1:24: failed to read the public key `../../etc/passwd`: the path leaves its folder"
    );
    assert_eq!(
        problems("trusted_keys: [a.pub, a.pub]\n", &["a.pub"]),
        [
            ".gantry/promotion.yml:1:23: `a.pub` is listed twice in `trusted_keys` (first at .gantry/promotion.yml:1:16)"
        ]
    );
}

#[test]
fn every_problem_of_the_file_is_reported_at_once() {
    let found = problems(
        "states:\n  sandbox:\n    allowed_transitions: [ready]\n    requirements: [tests]\ngates:\n  sast_clean: { severity: huge }\nextra: 1\n",
        &[],
    );
    assert_eq!(found.len(), 4, "{found:?}");
    let lines: Vec<&str> = found.iter().map(|p| &p[..p.find(": ").unwrap()]).collect();
    assert_eq!(
        lines,
        [
            ".gantry/promotion.yml:3:27",
            ".gantry/promotion.yml:4:20",
            ".gantry/promotion.yml:6:27",
            ".gantry/promotion.yml:7:1",
        ]
    );
}

#[test]
fn syntax_errors_and_unreadable_files_are_errors() {
    let dir = config_repo("states: [\n");
    let found = config_problems(dir.path());
    assert_eq!(found.len(), 1);
    let dir = repo(&[]);
    std::fs::create_dir_all(dir.path().join(".gantry/promotion.yml")).unwrap();
    assert!(matches!(
        PromotionConfig::load(dir.path()),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn a_name_whose_declaration_has_a_problem_is_not_also_unknown() {
    // The soak gate has a bad duration and bob's key is missing: the
    // requirement naming soak and the gate naming bob are not reported too.
    let found = problems(
        "states:\n  a:\n    requirements: [soak, approved_promotion]\ngates:\n  soak: { validator: soak_time, duration: forever }\n  approved_promotion: { approvers: [alice, bob] }\napprovers:\n  alice: a.pub\n  bob: b.pub\n",
        &["a.pub"],
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with(".gantry/promotion.yml:5:43: invalid duration `forever`"),
        "{found:?}"
    );
    assert!(
        found[1].starts_with(".gantry/promotion.yml:9:8: failed to read the public key `b.pub`"),
        "{found:?}"
    );
}

mod never_panics {
    use proptest::prelude::*;

    use gantry_promote::config::{ConfigError, PromotionConfig};
    use gantry_workflow::SourceFile;

    fn yamlish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("states:\n".to_string()),
            Just("  a:\n    allowed_transitions: [b]\n".to_string()),
            Just("  b:\n    requirements: [soak, { gate: x, level: y }]\n".to_string()),
            Just("gates:\n".to_string()),
            Just("  soak: { validator: soak_time, duration: 1h }\n".to_string()),
            Just("  w: { validator: window, timezone: UTC, deny: [x] }\n".to_string()),
            Just("  approved_promotion: { approvals_required: 3 }\n".to_string()),
            Just("approvers: { alice: a.pub }\n".to_string()),
            Just("approvals_required: 2\n".to_string()),
            Just("trusted_keys: [../x]\n".to_string()),
            "[a-z:#\\- \n\\[\\]{}0-9]{0,12}",
        ];
        proptest::collection::vec(piece, 0..10).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn reading_any_configuration_text_reports_inside_the_file(text in yamlish()) {
            let dir = tempfile::tempdir().unwrap();
            let source = SourceFile::new(".gantry/promotion.yml", text);
            match PromotionConfig::parse(&source, dir.path()) {
                Ok(config) => prop_assert!(!config.states.is_empty()),
                Err(ConfigError::Invalid(problems)) => {
                    prop_assert!(!problems.0.is_empty());
                    for p in &problems.0 {
                        prop_assert!(p.span.end <= source.text().len());
                    }
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}

//! Promotion decisions over a real ledger with real signed evidence:
//! dependency order, nothing half-applied, approvals that count and those
//! that never do, transitions and modes, dry runs.

use std::path::PathBuf;

use gantry_attest::keys::{Algorithm, PrivateKey};
use gantry_attest::statement::{Statement, Subject};
use gantry_ledger::Ledger;
use gantry_ledger::report::{AppendRequest, append_envelope};
use gantry_promote::GateResult;
use gantry_promote::approval::{self, ApprovalError, ApproveRequest};
use gantry_promote::package::{Package, PackageRequest, PackageStore};
use gantry_promote::promote::{
    self, Decision, PromoteError, PromoteRequest, PromotionReport, ServiceDecision, Stores,
    Workspace,
};
use gantry_promote::state::History;

use crate::common::{service, write};

const CONFIG: &str = "\
states:
  sandbox:
    allowed_transitions: [compliance_ready]
    requirements: []
  compliance_ready:
    allowed_transitions: [compliant]
    requirements: [all_tests_passing, dependencies_compliant]
  compliant:
    allowed_transitions: [sandbox]
    requirements: [approved_promotion, dependencies_compliant]
gates:
  approved_promotion: { type: manual, approvals_required: 2, approvers: [alice, bob, carol] }
trusted_keys: [keys/ci.pub]
approvers:
  alice: keys/alice.pub
  bob: keys/bob.pub
  carol: keys/carol.pub
";

struct Fixture {
    root: tempfile::TempDir,
    home: tempfile::TempDir,
    ci: PrivateKey,
    people: Vec<(String, PrivateKey)>,
}

impl Fixture {
    /// service-a → service-b → service-c, each `compliant` unless named in
    /// `sandboxed`.
    fn new(sandboxed: &[&str]) -> Fixture {
        Fixture::with_config(sandboxed, CONFIG)
    }

    fn with_config(sandboxed: &[&str], config: &str) -> Fixture {
        let root = tempfile::tempdir().unwrap();
        let mode = |name: &str| {
            if sandboxed.contains(&name) {
                "sandbox"
            } else {
                "compliant"
            }
        };
        for (name, deps) in [
            ("service-a", &["runtime: [service-b]"][..]),
            ("service-b", &["data: [service-c]"][..]),
            ("service-c", &[][..]),
        ] {
            write(
                root.path(),
                &format!(".gantry/services/{name}.yml"),
                &service(name, mode(name), deps),
            );
        }
        write(root.path(), ".gantry/promotion.yml", config);
        let key = || PrivateKey::generate(Algorithm::Ed25519).unwrap();
        let ci = key();
        write(
            root.path(),
            ".gantry/keys/ci.pub",
            &ci.public_key().to_pem(),
        );
        let mut people = Vec::new();
        for name in ["alice", "bob", "carol"] {
            let k = key();
            write(
                root.path(),
                &format!(".gantry/keys/{name}.pub"),
                &k.public_key().to_pem(),
            );
            people.push((name.to_string(), k));
        }
        Fixture {
            root,
            home: tempfile::tempdir().unwrap(),
            ci,
            people,
        }
    }

    fn workspace(&self) -> Workspace {
        Workspace::load(self.root.path()).unwrap()
    }

    fn ledger(&self) -> Ledger {
        Ledger::create_or_open(&self.home.path().join("ledger")).unwrap()
    }

    fn packages(&self) -> PackageStore {
        PackageStore::new(self.home.path().join("packages"))
    }

    fn locks(&self) -> PathBuf {
        self.home.path().join("locks")
    }

    fn key(&self, name: &str) -> &PrivateKey {
        &self.people.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn package(&self, by: &str) -> Package {
        let request = PackageRequest {
            services: vec!["service-a".into(), "service-b".into(), "service-c".into()],
            version: "1.0.0".into(),
            created_by: by.into(),
            time: "2026-12-06T10:00:00Z".into(),
            ..PackageRequest::default()
        };
        let known = vec!["service-a".into(), "service-b".into(), "service-c".into()];
        self.packages().create(&request, &known).unwrap().package
    }

    /// A test result for `service` 1.0.0, signed by `key`, in the ledger.
    fn tests(&self, service: &str, failed: bool, key: &PrivateKey) {
        let xml = format!(
            "<testsuite name=\"{service}\" tests=\"1\" failures=\"{}\">\
             <testcase name=\"t\">{}</testcase></testsuite>",
            u8::from(failed),
            if failed {
                "<failure message=\"no\"/>"
            } else {
                ""
            }
        );
        let predicate =
            gantry_attest::predicate::read_predicate("test-result", "junit.xml", xml.as_bytes())
                .unwrap();
        let statement = Statement::new(
            vec![Subject::sha256(service, "ab".repeat(32))],
            gantry_attest::predicate::resolve("test-result"),
            predicate,
        );
        let envelope = gantry_attest::attest(&statement, &[key]).unwrap();
        let request = AppendRequest {
            service: Some(service.into()),
            version: Some("1.0.0".into()),
            time: "2026-12-06T10:00:00Z".into(),
            ..AppendRequest::default()
        };
        append_envelope(&self.ledger(), envelope.to_json().as_bytes(), &request).unwrap();
    }

    fn promote(&self, package: &Package, to: Option<&str>, dry_run: bool) -> PromotionReport {
        self.try_promote(package, to, dry_run).unwrap()
    }

    fn try_promote(
        &self,
        package: &Package,
        to: Option<&str>,
        dry_run: bool,
    ) -> Result<PromotionReport, PromoteError> {
        self.promote_at(package, to, dry_run, "2026-12-09T12:00:00Z")
    }

    fn promote_at(
        &self,
        package: &Package,
        to: Option<&str>,
        dry_run: bool,
        now: &str,
    ) -> Result<PromotionReport, PromoteError> {
        let ledger = self.ledger();
        let packages = self.packages();
        let locks = self.locks();
        let stores = Stores {
            ledger: &ledger,
            packages: &packages,
            locks: &locks,
        };
        let request = PromoteRequest {
            package: package.id.clone(),
            to: to.map(str::to_string),
            dry_run,
            requested_by: "ci".into(),
            now: now.parse().unwrap(),
        };
        promote::promote(&self.workspace(), stores, &request, |_| {})
    }

    fn approve(&self, package: &Package, who: &str, key: &PrivateKey) -> Result<(), ApprovalError> {
        let workspace = self.workspace();
        let request = ApproveRequest {
            package,
            approver: who,
            key,
            comment: None,
            time: "2026-12-06T11:00:00Z".into(),
        };
        approval::approve(
            &self.ledger(),
            &self.locks(),
            workspace.approver_rules(),
            &request,
        )
        .map(|_| ())
    }

    fn state(&self, service: &str) -> Option<String> {
        let history = History::build(&self.ledger().snapshot().unwrap()).unwrap();
        history.placement(service, "1.0.0").map(|p| p.state.clone())
    }
}

fn gate<'a>(report: &'a PromotionReport, service: &str, gate: &str) -> &'a promote::GateReport {
    report
        .services
        .iter()
        .find(|s| s.service == service)
        .unwrap()
        .gates
        .iter()
        .find(|g| g.name == gate)
        .unwrap()
}

fn order(report: &PromotionReport) -> Vec<&str> {
    report.services.iter().map(|s| s.service.as_str()).collect()
}

#[test]
fn services_move_in_dependency_order_once_every_gate_passes() {
    let f = Fixture::new(&[]);
    let package = f.package("ci");
    let blocked = f.promote(&package, None, false);
    assert_eq!(blocked.decision, Decision::Blocked);
    assert_eq!(blocked.to, "compliance_ready");
    assert_eq!(order(&blocked), ["service-c", "service-b", "service-a"]);
    assert_eq!(
        gate(&blocked, "service-a", "all_tests_passing").result,
        GateResult::Fail
    );
    // A blocked attempt is recorded, and moves nothing.
    assert_eq!(blocked.recorded.len(), 6);
    assert_eq!(f.state("service-c"), None);

    for s in ["service-a", "service-b", "service-c"] {
        f.tests(s, false, &f.ci);
    }
    let promoted = f.promote(&package, None, false);
    assert_eq!(promoted.decision, Decision::Promoted, "{promoted:#?}");
    assert!(
        promoted
            .services
            .iter()
            .all(|s| s.decision == ServiceDecision::Promoted)
    );
    // service-b's dependency counts as it stands after this promotion.
    assert_eq!(
        gate(&promoted, "service-a", "dependencies_compliant").result,
        GateResult::Pass
    );
    for s in ["service-a", "service-b", "service-c"] {
        assert_eq!(f.state(s).as_deref(), Some("compliance_ready"), "{s}");
    }
    // Again: nothing to do, nothing recorded.
    let again = f.promote(&package, Some("compliance_ready"), false);
    assert_eq!(again.decision, Decision::Promoted);
    assert!(again.recorded.is_empty());
    assert!(again.message.is_some());
    assert!(f.ledger().verify(&[]).unwrap().ok);
}

#[test]
fn one_blocked_service_holds_back_the_whole_package() {
    let f = Fixture::new(&[]);
    let package = f.package("ci");
    f.tests("service-c", false, &f.ci);
    f.tests("service-b", false, &f.ci);
    f.tests("service-a", true, &f.ci);
    let report = f.promote(&package, None, false);
    assert_eq!(report.decision, Decision::Blocked);
    let decisions: Vec<ServiceDecision> = report.services.iter().map(|s| s.decision).collect();
    assert_eq!(
        decisions,
        [
            ServiceDecision::Ready,
            ServiceDecision::Ready,
            ServiceDecision::Blocked
        ]
    );
    assert!(
        gate(&report, "service-a", "all_tests_passing")
            .reason
            .contains("FAILED"),
        "{report:#?}"
    );
    for s in ["service-a", "service-b", "service-c"] {
        assert_eq!(
            f.state(s),
            None,
            "{s} moved although the package was blocked"
        );
    }
}

#[test]
fn evidence_signed_by_an_untrusted_key_never_counts() {
    let f = Fixture::new(&[]);
    let package = f.package("ci");
    let mallory = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    for s in ["service-a", "service-b", "service-c"] {
        f.tests(s, false, &mallory);
    }
    let report = f.promote(&package, None, true);
    assert_eq!(report.decision, Decision::Blocked);
    let reason = &gate(&report, "service-c", "all_tests_passing").reason;
    assert!(
        reason.contains("untrusted") || reason.contains("not signed by"),
        "{reason}"
    );
    assert!(reason.contains(&mallory.key_id()[..16]), "{reason}");
}

#[test]
fn approvals_count_once_per_approver_and_never_for_the_creator() {
    let f = Fixture::new(&[]);
    let package = f.package("alice");
    for s in ["service-a", "service-b", "service-c"] {
        f.tests(s, false, &f.ci);
    }
    assert_eq!(
        f.promote(&package, None, false).decision,
        Decision::Promoted
    );

    let pending = f.promote(&package, None, true);
    assert_eq!(pending.decision, Decision::Pending);
    assert_eq!(pending.to, "compliant");

    // The creator, a key that is not the approver's, a stranger.
    assert!(matches!(
        f.approve(&package, "alice", f.key("alice")),
        Err(ApprovalError::SelfApproval { .. })
    ));
    assert!(matches!(
        f.approve(&package, "bob", f.key("carol")),
        Err(ApprovalError::WrongKey { .. })
    ));
    assert!(matches!(
        f.approve(&package, "bobby", f.key("bob")),
        Err(ApprovalError::UnknownApprover { hint: Some(_), .. })
    ));
    f.approve(&package, "bob", f.key("bob")).unwrap();
    assert!(matches!(
        f.approve(&package, "bob", f.key("bob")),
        Err(ApprovalError::AlreadyApproved { .. })
    ));
    let one = f.promote(&package, None, true);
    assert_eq!(one.decision, Decision::Pending);
    let reason = &gate(&one, "service-a", "approved_promotion").reason;
    assert!(reason.contains("1 of 2"), "{reason}");
    assert!(
        reason.contains("carol") && !reason.contains("alice"),
        "{reason}"
    );

    f.approve(&package, "carol", f.key("carol")).unwrap();
    let done = f.promote(&package, None, false);
    assert_eq!(done.decision, Decision::Promoted, "{done:#?}");
    assert_eq!(f.state("service-a").as_deref(), Some("compliant"));
}

#[test]
fn a_forged_approval_record_does_not_count() {
    let f = Fixture::new(&[]);
    let package = f.package("ci");
    for s in ["service-a", "service-b", "service-c"] {
        f.tests(s, false, &f.ci);
    }
    f.promote(&package, None, false);
    // Bob's name, carol's key: written straight into the ledger, past the
    // checks `approve` makes.
    let workspace = f.workspace();
    let mut approvers = workspace.config.approvers.clone();
    approvers.insert("bob".into(), f.key("carol").public_key().clone());
    let rules = approval::ApproverRules {
        approvers: &approvers,
        prevent_self_approval: true,
    };
    let request = ApproveRequest {
        package: &package,
        approver: "bob",
        key: f.key("carol"),
        comment: None,
        time: "2026-12-06T11:00:00Z".into(),
    };
    approval::approve(&f.ledger(), &f.locks(), rules, &request).unwrap();
    f.approve(&package, "alice", f.key("alice")).unwrap();
    let report = f.promote(&package, None, true);
    assert_eq!(report.decision, Decision::Pending);
    let reason = &gate(&report, "service-c", "approved_promotion").reason;
    assert!(reason.contains("1 of 2"), "{reason}");
    assert!(reason.contains("not signed by bob's key"), "{reason}");
}

#[test]
fn a_transition_that_is_not_allowed_lists_the_allowed_ones() {
    let f = Fixture::new(&[]);
    let package = f.package("ci");
    let report = f.promote(&package, Some("compliant"), true);
    assert_eq!(report.decision, Decision::Blocked);
    let g = gate(&report, "service-c", "transition");
    assert_eq!(g.result, GateResult::Fail);
    assert!(
        g.reason.contains("allowed ones are: compliance_ready"),
        "{}",
        g.reason
    );
    let e = f
        .try_promote(&package, Some("complaint"), true)
        .unwrap_err();
    assert!(e.to_string().contains("did you mean `compliant`?"), "{e}");
}

#[test]
fn a_sandbox_service_stays_in_the_first_state() {
    let f = Fixture::new(&["service-c"]);
    let package = f.package("ci");
    for s in ["service-a", "service-b", "service-c"] {
        f.tests(s, false, &f.ci);
    }
    let report = f.promote(&package, None, true);
    assert_eq!(report.decision, Decision::Blocked);
    assert_eq!(
        gate(&report, "service-c", "compliance_mode").result,
        GateResult::Fail
    );
    // Its dependants are blocked by it in turn.
    assert_eq!(
        gate(&report, "service-b", "dependencies_compliant").result,
        GateResult::Fail
    );
}

#[test]
fn a_dry_run_records_nothing() {
    let f = Fixture::new(&[]);
    let package = f.package("ci");
    for s in ["service-a", "service-b", "service-c"] {
        f.tests(s, false, &f.ci);
    }
    let before = f.ledger().snapshot().unwrap().size();
    let report = f.promote(&package, None, true);
    assert_eq!(report.decision, Decision::Promoted);
    assert!(report.dry_run);
    assert!(report.recorded.is_empty());
    assert_eq!(f.ledger().snapshot().unwrap().size(), before);
    assert_eq!(f.state("service-c"), None);
}

#[test]
fn levels_and_soak_time_decide_as_configured() {
    let config = "\
states:
  sandbox:
    allowed_transitions: [compliance_ready]
  compliance_ready:
    allowed_transitions: [sandbox]
    requirements:
      - { gate: all_tests_passing, level: required_if_present }
      - { gate: sast_clean, level: recommended }
      - soak
gates:
  soak: { validator: soak_time, duration: 2d }
trusted_keys: [keys/ci.pub]
";
    let f = Fixture::with_config(&[], config);
    let package = f.package("ci");
    // Created 2026-12-06T10:00Z: one day later the soak is still pending;
    // no test results at all is skipped; no audit only warns.
    let early = f
        .promote_at(&package, None, true, "2026-12-07T10:00:00Z")
        .unwrap();
    assert_eq!(early.decision, Decision::Pending, "{early:#?}");
    let soak = gate(&early, "service-c", "soak");
    assert_eq!(soak.result, GateResult::Pending);
    assert!(
        soak.reason.contains("passes at 2026-12-08T10:00:00Z"),
        "{}",
        soak.reason
    );
    assert_eq!(
        gate(&early, "service-c", "all_tests_passing").result,
        GateResult::Skipped
    );
    assert_eq!(
        gate(&early, "service-c", "sast_clean").result,
        GateResult::Fail
    );
    let later = f
        .promote_at(&package, None, true, "2026-12-08T10:00:00Z")
        .unwrap();
    assert_eq!(later.decision, Decision::Promoted, "{later:#?}");
    // A failing test result, once present, is required.
    f.tests("service-b", true, &f.ci);
    let failing = f
        .promote_at(&package, None, true, "2026-12-08T10:00:00Z")
        .unwrap();
    assert_eq!(failing.decision, Decision::Blocked);
    assert_eq!(
        gate(&failing, "service-b", "all_tests_passing").result,
        GateResult::Fail
    );
}

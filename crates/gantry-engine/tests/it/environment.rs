//! Jobs with `environment:` through the backend's hooks: a refusal fails
//! the job before its steps, admitted secrets and variables reach only
//! that job, the URL is evaluated after the steps, a job without
//! `environment:` never asks, and the hooks' conclusion is the job's.

use std::sync::{Arc, Mutex};

use gantry_engine::run::environment::{
    Admission, BoxFuture, EnvironmentEntry, EnvironmentExit, Environments, Say, Sayer,
};
use gantry_engine::run::{Conclusion, RunEvent};
use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;

use crate::common::run_with_environments;

/// Admits every environment but `forbidden`, with one secret and one
/// variable; fails jobs in `unhealthy` when they leave; records what it
/// was asked.
#[derive(Default)]
struct Hooks {
    entered: Mutex<Vec<EnvironmentEntry>>,
    left: Mutex<Vec<(String, EnvironmentExit)>>,
}

impl Environments for Hooks {
    fn enter<'a>(
        &'a self,
        entry: &'a EnvironmentEntry,
        say: Sayer<'a>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<Admission, String>> {
        Box::pin(async move {
            self.entered.lock().unwrap().push(entry.clone());
            if entry.environment == "forbidden" {
                return Err("Branch \"main\" is not allowed to deploy to forbidden".into());
            }
            say(Say::Waiting("waiting for nobody".into()));
            Ok(Admission {
                deployment: Some(1),
                secrets: IndexMap::from([("TOKEN".to_string(), "s3cr3t-value".to_string())]),
                vars: IndexMap::from([("REGION".to_string(), "eu".to_string())]),
            })
        })
    }

    fn leave<'a>(
        &'a self,
        entry: &'a EnvironmentEntry,
        _admission: &'a Admission,
        exit: EnvironmentExit,
        say: Sayer<'a>,
    ) -> BoxFuture<'a, Conclusion> {
        Box::pin(async move {
            let conclusion = if entry.environment == "unhealthy" {
                say(Say::Warning("the health check failed".into()));
                Conclusion::Failure
            } else {
                exit.conclusion
            };
            self.left
                .lock()
                .unwrap()
                .push((entry.environment.clone(), exit));
            conclusion
        })
    }

    fn health_check<'a>(
        &'a self,
        _inputs: &'a IndexMap<String, String>,
        _say: Sayer<'a>,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async { Ok("healthy".to_string()) })
    }
}

const WORKFLOW: &str = "\
on: push
jobs:
  plain:
    runs-on: x
    steps:
      - run: echo \"plain [${{ secrets.TOKEN }}] [${{ vars.REGION }}]\"
  deploy:
    runs-on: x
    environment:
      name: ${{ format('prod-{0}', 'eu') }}
      url: https://example.com/${{ steps.s.outputs.path }}
    steps:
      - id: s
        run: |
          echo \"deploy [${{ secrets.TOKEN }}] [${{ vars.REGION }}]\"
          echo \"path=v2\" >> \"$GITHUB_OUTPUT\"
  refused:
    runs-on: x
    environment: forbidden
    steps:
      - run: echo \"refused ran\"
  sick:
    runs-on: x
    environment: unhealthy
    steps:
      - run: echo sick
";

#[tokio::test]
async fn environment_jobs_go_through_the_hooks_and_others_never_do() {
    let hooks = Arc::new(Hooks::default());
    let out = run_with_environments(WORKFLOW, hooks.clone()).await;
    assert_eq!(out.conclusion, Conclusion::Failure);

    // A job without `environment:` is not asked about and sees neither.
    assert_eq!(out.log("plain"), ["plain [] []"]);
    assert_eq!(out.job_result("plain"), Some(Conclusion::Success));
    let mut asked: Vec<String> = hooks
        .entered
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.environment.clone())
        .collect();
    asked.sort();
    assert_eq!(asked, ["forbidden", "prod-eu", "unhealthy"]);

    // Admitted: the secret masked, the variable, the URL after the steps.
    assert!(
        out.log("deploy").contains(&"deploy [***] [eu]".to_string()),
        "{:?}",
        out.log("deploy")
    );
    assert!(!out.all_lines().contains("s3cr3t-value"));
    assert_eq!(out.job_result("deploy"), Some(Conclusion::Success));
    let entry = hooks
        .entered
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.environment == "prod-eu")
        .cloned()
        .unwrap();
    assert_eq!(entry.job_id, "deploy");
    assert_eq!(entry.git_ref.as_deref(), Some("refs/heads/main"));
    assert!(entry.deployment);
    let left = hooks.left.lock().unwrap();
    let (_, exit) = left.iter().find(|(e, _)| e == "prod-eu").unwrap();
    assert_eq!(exit.url.as_deref(), Some("https://example.com/v2"));
    assert_eq!(exit.conclusion, Conclusion::Success);
    assert!(out.events.iter().any(|e| matches!(
        e,
        RunEvent::JobWaiting { job, reason } if job == "deploy" && reason == "waiting for nobody"
    )));

    // Refused: the reason, and no step ran.
    assert_eq!(out.job_result("refused"), Some(Conclusion::Failure));
    assert_eq!(
        out.log("refused"),
        ["error: Branch \"main\" is not allowed to deploy to forbidden"]
    );
    assert!(!left.iter().any(|(e, _)| e == "forbidden"));

    // The hooks' conclusion is the job's.
    assert_eq!(out.job_result("sick"), Some(Conclusion::Failure));
    assert!(
        out.log("sick")
            .contains(&"warning: the health check failed".to_string())
    );
}

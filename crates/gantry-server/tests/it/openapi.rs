//! The OpenAPI document: valid OpenAPI 3.1 (checked by the reference
//! validator), and describing every route the server answers.

use std::process::Command;

use gantry_server::auth::Role;
use serde_json::Value;

use crate::common::{Fixture, client, start};

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_is_valid_3_1_and_every_route_in_it_is_served() {
    let f = Fixture::new();
    let admin = f.token("root", Role::Admin);
    let s = start(&f).await;
    let c = client();
    let resp = c
        .get(s.url("/openapi.json"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"].as_str().unwrap(), "3.1.0");

    let file = f.dir.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             from openapi_spec_validator.versions import consts\n\
             spec = json.load(open(sys.argv[1]))\n\
             validate(spec)\n\
             print('valid')",
        )
        .arg(&file)
        .output()
        .expect("python3 with openapi-spec-validator (see .ci/run)");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every documented operation is answered (not 404 or 405), and the
    // server answers nothing that is not documented: the router is built
    // from the same annotations (utoipa-axum), so a path not in the
    // document is a 404 here.
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        "/healthz",
        "/openapi.json",
        "/metrics",
        "/v1/runs",
        "/v1/runs/{id}",
        "/v1/runs/{id}/jobs/{job}/log",
        "/v1/runs/{id}/jobs/{job}/steps/{step}/log",
        "/v1/runs/{id}/tests",
        "/v1/tests/flaky",
        "/v1/services",
        "/v1/packages",
        "/v1/packages/{id}",
        "/v1/packages/{id}/promote",
        "/v1/packages/{id}/approvals",
        "/v1/promotions",
        "/v1/promotions/{id}",
        "/v1/ledger/checkpoint",
        "/v1/ledger/proofs/inclusion",
        "/v1/ledger/proofs/consistency",
        "/v1/ledger/entries/{index}",
    ];
    for p in expected {
        assert!(paths.contains_key(p), "{p} is not in the document");
    }
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", "1")
            .replace("{job}", "build")
            .replace("{step}", "0")
            .replace("{index}", "0");
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            // Without a token: 401 proves the route exists (an unknown
            // route would be 404) without touching anything.
            let resp = c
                .request(method.to_uppercase().parse().unwrap(), s.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            assert!(
                status != 404 && status != 405,
                "{method} {path} is documented but answers {status}"
            );
            let op = &item[method];
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        }
    }
    assert!(operations >= expected.len());
    let unknown = c.get(s.url("/v1/nothing")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    s.stop().await;
}

//! CycloneDX and SPDX output: valid by the official CycloneDX JSON
//! schemas, accepted by the reference validators from PyPI
//! (`cyclonedx-python-lib`'s strict JSON validator, `pyspdxtools`), with
//! the dependency graph, and byte-identical for the same input.

use std::path::{Path, PathBuf};
use std::process::Command;

use gantry_sbom::cyclonedx::{self, DocumentInfo, SpecVersion};
use gantry_sbom::{DiscoverOptions, Inventory, inventory, spdx};
use serde_json::Value;

use crate::common::{fixtures, shared};

fn info() -> DocumentInfo {
    DocumentInfo {
        name: "monorepo".into(),
        timestamp: 1_700_000_000,
        tool_version: "0.1.0".into(),
    }
}

fn every_fixture() -> Inventory {
    let mut all = inventory(&fixtures(), &DiscoverOptions::default()).unwrap();
    assert!(all.components.len() > 80, "{}", all.components.len());
    all.components.sort_by(|a, b| a.purl.cmp(&b.purl));
    all
}

/// Maps the schemas' `$id`s to the copies in shared/testdata/schemas.
struct LocalSchemas(PathBuf);

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().rsplit('/').next().unwrap_or("");
        let direct = self.0.join(name);
        let file = if direct.exists() {
            direct
        } else {
            self.0
                .join(name.replace(".schema.json", ".SNAPSHOT.schema.json"))
        };
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn schema_errors(schemas: &Path, schema_file: &str, doc: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schemas.join(schema_file)).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(LocalSchemas(schemas.to_path_buf()))
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn cyclonedx_is_valid_by_the_official_schemas() {
    let Some(schemas) = shared("schemas") else {
        return;
    };
    let inv = every_fixture();
    for (spec, file) in [
        (SpecVersion::V1_6, "bom-1.6.SNAPSHOT.schema.json"),
        (SpecVersion::V1_5, "bom-1.5.SNAPSHOT.schema.json"),
    ] {
        let doc = cyclonedx::write(&inv, &info(), spec);
        let errors = schema_errors(&schemas, file, &doc);
        assert!(errors.is_empty(), "{spec:?}: {errors:#?}");
        assert_eq!(doc["specVersion"], spec.as_str());
    }
    // The schema really is checking: a wrong scope is an error.
    let mut bad = cyclonedx::write(&inv, &info(), SpecVersion::V1_6);
    bad["components"][0]["scope"] = "sometimes".into();
    assert!(!schema_errors(&schemas, "bom-1.6.SNAPSHOT.schema.json", &bad).is_empty());
}

#[test]
fn cyclonedx_lists_components_with_graph_and_locations() {
    let inv = inventory(&fixtures().join("monorepo"), &DiscoverOptions::default()).unwrap();
    let doc = cyclonedx::write(&inv, &info(), SpecVersion::V1_6);
    let components = doc["components"].as_array().unwrap();
    let regex = components
        .iter()
        .find(|c| c["purl"] == "pkg:cargo/regex@1.5.4")
        .unwrap();
    assert_eq!(regex["name"], "regex");
    assert_eq!(regex["version"], "1.5.4");
    assert_eq!(regex["scope"], "required");
    assert_eq!(regex["hashes"][0]["alg"], "SHA-256");
    assert_eq!(
        regex["evidence"]["occurrences"][0],
        serde_json::json!({"location": "Cargo.lock", "line": 30})
    );
    let babel = components
        .iter()
        .find(|c| c["purl"] == "pkg:npm/%40babel/runtime@7.20.13")
        .unwrap();
    assert_eq!(babel["group"], "@babel");
    assert_eq!(babel["name"], "runtime");
    let minimist = components
        .iter()
        .find(|c| c["purl"] == "pkg:npm/minimist@1.2.5")
        .unwrap();
    assert_eq!(minimist["scope"], "excluded");
    let deps = doc["dependencies"].as_array().unwrap();
    let root = deps.iter().find(|d| d["ref"] == "root").unwrap();
    assert!(
        root["dependsOn"]
            .as_array()
            .unwrap()
            .contains(&"pkg:cargo/regex@1.5.4".into())
    );
    let regex_deps = deps
        .iter()
        .find(|d| d["ref"] == "pkg:cargo/regex@1.5.4")
        .unwrap();
    assert_eq!(
        regex_deps["dependsOn"],
        serde_json::json!([
            "pkg:cargo/aho-corasick@0.7.20",
            "pkg:cargo/memchr@2.5.0",
            "pkg:cargo/regex-syntax@0.6.29"
        ])
    );
    assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    // Every edge points at a listed component.
    let refs: std::collections::HashSet<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .chain(["root"])
        .collect();
    for d in deps {
        for to in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(to.as_str().unwrap()), "{to}");
        }
    }
}

#[test]
fn output_is_deterministic() {
    let a = inventory(&fixtures(), &DiscoverOptions::default()).unwrap();
    let b = inventory(&fixtures(), &DiscoverOptions::default()).unwrap();
    for spec in [SpecVersion::V1_5, SpecVersion::V1_6] {
        assert_eq!(
            serde_json::to_string(&cyclonedx::write(&a, &info(), spec)).unwrap(),
            serde_json::to_string(&cyclonedx::write(&b, &info(), spec)).unwrap()
        );
    }
    assert_eq!(
        serde_json::to_string(&spdx::write(&a, &info())).unwrap(),
        serde_json::to_string(&spdx::write(&b, &info())).unwrap()
    );
}

#[test]
fn spdx_has_packages_purls_checksums_and_relationships() {
    let inv = inventory(&fixtures().join("monorepo"), &DiscoverOptions::default()).unwrap();
    let doc = spdx::write(&inv, &info());
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(packages.len(), inv.unique_components().len() + 1);
    let ids: std::collections::HashSet<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), packages.len(), "SPDX ids are unique");
    let yaml = packages
        .iter()
        .find(|p| p["externalRefs"][0]["referenceLocator"] == "pkg:pypi/pyyaml@5.1")
        .unwrap();
    assert_eq!(yaml["checksums"][0]["algorithm"], "SHA256");
    assert_eq!(yaml["versionInfo"], "5.1");
    let rels = doc["relationships"].as_array().unwrap();
    assert!(rels.iter().any(|r| r["relationshipType"] == "DESCRIBES"));
    assert!(
        rels.iter()
            .any(|r| r["relationshipType"] == "DEV_DEPENDENCY_OF")
    );
    for r in rels {
        for key in ["spdxElementId", "relatedSpdxElement"] {
            let id = r[key].as_str().unwrap();
            assert!(id == "SPDXRef-DOCUMENT" || ids.contains(id), "{id}");
        }
    }
}

/// Runs a Python snippet or tool. `None` (after printing why) when Python
/// or the package is missing outside CI; under `CI=true` that fails.
fn python_tool(program: &str, args: &[&str], needs: &str) -> Option<std::process::Output> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match Command::new(program).args(args).output() {
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("ModuleNotFoundError") || stderr.contains("No module named") {
                assert!(
                    !ci,
                    "{needs} is not installed (required under CI=true): {stderr}"
                );
                eprintln!("skipped: {needs} is not installed (`pip install {needs}`)");
                return None;
            }
            Some(out)
        }
        Err(e) => {
            assert!(!ci, "cannot run {program} (required under CI=true): {e}");
            eprintln!("skipped: cannot run {program}: {e}; install {needs}");
            None
        }
    }
}

#[test]
fn cyclonedx_python_lib_strict_validator_accepts_the_output() {
    let inv = every_fixture();
    let dir = tempfile::tempdir().unwrap();
    for spec in [SpecVersion::V1_6, SpecVersion::V1_5] {
        let path = dir.path().join(format!("bom-{}.json", spec.as_str()));
        let doc = cyclonedx::write(&inv, &info(), spec);
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        let script = "import sys\n\
from cyclonedx.validation.json import JsonStrictValidator\n\
from cyclonedx.schema import SchemaVersion\n\
v = JsonStrictValidator(SchemaVersion.from_version(sys.argv[2]))\n\
err = v.validate_str(open(sys.argv[1]).read())\n\
print('INVALID', err) if err else print('VALID')\n\
sys.exit(1 if err else 0)\n";
        let Some(out) = python_tool(
            "python3",
            &["-c", script, path.to_str().unwrap(), spec.as_str()],
            "cyclonedx-python-lib[json-validation]",
        ) else {
            return;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("VALID"),
            "{spec:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn pyspdxtools_accepts_the_output() {
    let inv = every_fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sbom.spdx.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&spdx::write(&inv, &info())).unwrap(),
    )
    .unwrap();
    let Some(out) = python_tool("pyspdxtools", &["-i", path.to_str().unwrap()], "spdx-tools")
    else {
        return;
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("ValidationMessage"), "{text}");
}

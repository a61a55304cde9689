//! An image's CycloneDX SBOM: valid by the official schema and by
//! cyclonedx-python-lib's strict validator, the image as a `container`
//! with its manifest digest, each component with its layer and path.

use std::path::{Path, PathBuf};

use gantry_image::Options;
use gantry_sbom::cyclonedx::{DocumentInfo, SpecVersion};
use serde_json::Value;

use crate::common::build::{self, Compression};
use crate::common::{ci, shared};

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

fn image_sbom(spec: SpecVersion) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let digest = build::oci_layout(
        dir.path(),
        &build::debian_layers(),
        Compression::Gzip,
        "example/app:1.0",
    );
    let inv = gantry_image::inventory(dir.path(), &Options::default()).unwrap();
    let info = DocumentInfo {
        name: inv.image.name.clone(),
        timestamp: 1_700_000_000,
        tool_version: "0.1.0".into(),
    };
    (gantry_image::sbom::cyclonedx(&inv, &info, spec), digest)
}

#[test]
fn the_image_sbom_names_the_image_by_digest_and_each_component_by_layer() {
    let (doc, digest) = image_sbom(SpecVersion::V1_6);
    let root = &doc["metadata"]["component"];
    assert_eq!(root["type"], "container");
    assert_eq!(root["version"], digest);
    assert_eq!(
        root["purl"],
        format!("pkg:oci/app@{digest}?arch=amd64&repository_url=example%2Fapp&tag=1.0")
    );
    let components = doc["components"].as_array().unwrap();
    let curl = components
        .iter()
        .find(|c| c["name"] == "curl")
        .expect("curl is listed");
    assert_eq!(
        curl["purl"],
        "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"
    );
    let props: Vec<(&str, &str)> = curl["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(
        props.contains(&("gantry:path", "var/lib/dpkg/status")),
        "{props:?}"
    );
    assert!(
        props
            .iter()
            .any(|(k, v)| *k == "gantry:layer" && v.starts_with("sha256:")),
        "{props:?}"
    );
}

#[test]
fn the_image_sbom_is_valid_cyclonedx() {
    let Some(schemas) = shared("schemas") else {
        return;
    };
    for (spec, file) in [
        (SpecVersion::V1_6, "bom-1.6.SNAPSHOT.schema.json"),
        (SpecVersion::V1_5, "bom-1.5.SNAPSHOT.schema.json"),
    ] {
        let (doc, _) = image_sbom(spec);
        let errors = schema_errors(&schemas, file, &doc);
        assert!(errors.is_empty(), "{spec:?}: {errors:#?}");
    }
}

#[test]
fn cyclonedx_python_lib_accepts_the_image_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.cdx.json");
    let (doc, _) = image_sbom(SpecVersion::V1_6);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let script = "import sys\n\
from cyclonedx.validation.json import JsonStrictValidator\n\
from cyclonedx.schema import SchemaVersion\n\
v = JsonStrictValidator(SchemaVersion.from_version('1.6'))\n\
err = v.validate_str(open(sys.argv[1]).read())\n\
print('INVALID', err) if err else print('VALID')\n\
sys.exit(1 if err else 0)\n";
    let out = match std::process::Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(!ci(), "cannot run python3 (required under CI=true): {e}");
            eprintln!("skipped: cannot run python3: {e}");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named") {
        assert!(
            !ci(),
            "cyclonedx-python-lib is not installed (required under CI=true)"
        );
        eprintln!("skipped: cyclonedx-python-lib is not installed");
        return;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("VALID"),
        "{stdout}{stderr}"
    );
}

//! DSSE conformance: the specification's own test vector reproduced byte
//! for byte, and gantry's envelopes checked by the reference implementation
//! on PyPI (securesystemslib's `Envelope.verify`).

use std::path::Path;
use std::process::Command;

use gantry_attest::{Algorithm, Envelope, PrivateKey, Statement, Subject, pae};

/// A decimal number as 32 big-endian bytes.
fn decimal_to_be32(decimal: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for digit in decimal.bytes() {
        let mut carry = u32::from(digit - b'0');
        for byte in out.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0, "overflow");
    }
    out
}

/// protocol.md, "Test Vectors": ECDSA P-256, SHA-256, RFC 6979 nonces, the
/// signature as raw `r || s`.
#[test]
fn specification_test_vector_byte_for_byte() {
    let payload_type = "http://example.com/HelloWorld";
    let body = b"hello world";
    let message = pae(payload_type, body);
    assert_eq!(
        message,
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );

    let d = decimal_to_be32(
        "97358161215184420915383655311931858321456579547487070936769975997791359926199",
    );
    let key = PrivateKey::p256_from_scalar(&d).unwrap();
    // The public point the specification gives.
    let der = key.public_key().der();
    let point = &der[der.len() - 65..];
    assert_eq!(point[0], 4);
    assert_eq!(
        point[1..33],
        decimal_to_be32(
            "46950820868899156662930047687818585632848591499744589407958293238635476079160"
        )
    );
    assert_eq!(
        point[33..],
        decimal_to_be32(
            "5640078356564379163099075877009565129882514886557779369047442380624545832820"
        )
    );

    let sig = key.sign_raw_ecdsa(&message).unwrap();
    let expected_sig =
        "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==";
    assert_eq!(gantry_attest::base64::encode(&sig), expected_sig);

    // The specification's envelope reads back, and its raw signature
    // verifies with gantry's verifier.
    let spec_envelope = format!(
        r#"{{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{{"sig": "{expected_sig}"}}]}}"#
    );
    let env = Envelope::from_json(spec_envelope.as_bytes()).unwrap();
    assert_eq!(env.payload, body);
    assert_eq!(env.signatures[0].sig, sig);
    let checks = env.verify(std::slice::from_ref(key.public_key()));
    assert_eq!(checks[0].verified_by.as_deref(), Some(key.key_id()));
    // One changed byte of the body and it no longer verifies.
    let mut tampered = env;
    tampered.payload[0] ^= 0x20;
    assert_eq!(
        tampered.verify(std::slice::from_ref(key.public_key()))[0].verified_by,
        None
    );
}

fn securesystemslib_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import securesystemslib.dsse, cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let reason = "securesystemslib is not installed (`python3 -m pip install 'securesystemslib[crypto]==1.6.0'`; .ci/run installs it)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{reason}");
        }
        eprintln!("skipping: {reason}");
    }
    found
}

fn run_reference(envelope: &Path, threshold: usize, keys: &[(&str, &Path)]) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop_dsse.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(envelope).arg(threshold.to_string());
    for (id, path) in keys {
        cmd.arg(format!("{id}={}", path.display()));
    }
    let out = cmd.output().unwrap();
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "reference verifier failed to run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    code == Some(0)
}

#[test]
fn reference_implementation_verifies_gantry_envelopes() {
    if !securesystemslib_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ed = PrivateKey::generate(Algorithm::Ed25519).unwrap();
    let ec = PrivateKey::generate(Algorithm::EcdsaP256).unwrap();
    let ed_pub = dir.path().join("ed.pub");
    let ec_pub = dir.path().join("ec.pub");
    std::fs::write(&ed_pub, ed.public_key().to_pem()).unwrap();
    std::fs::write(&ec_pub, ec.public_key().to_pem()).unwrap();
    let keys = [
        (ed.key_id(), ed_pub.as_path()),
        (ec.key_id(), ec_pub.as_path()),
    ];

    let statement = Statement::new(
        vec![Subject::sha256(
            "dist/app",
            gantry_attest::digest::sha256_hex(b"app"),
        )],
        "https://cyclonedx.org/bom",
        serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6"}),
    );
    let envelope = gantry_attest::attest(&statement, &[&ed, &ec]).unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, envelope.to_json_pretty()).unwrap();
    assert!(run_reference(&good, 2, &keys), "both signatures accepted");

    // Tampering: a changed payload, a changed payload type, a signature
    // moved to another key id.
    let mut payload = envelope.clone();
    let last = payload.payload.len() - 2;
    payload.payload[last] ^= 1;
    let mut ptype = envelope.clone();
    ptype.payload_type = "application/json".into();
    let mut swapped = envelope.clone();
    swapped.signatures[0].sig = envelope.signatures[1].sig.clone();
    for (name, bad) in [("payload", payload), ("type", ptype), ("swapped", swapped)] {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, bad.to_json()).unwrap();
        assert!(!run_reference(&path, 2, &keys), "{name} rejected");
    }
}

//! Signatures and verifications per second through gantry's DSSE layer,
//! against the raw signing libraries on the same bytes (the physical
//! limit), printed as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use gantry_attest::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey};
use std::hint::black_box;

fn rate<T>(n: u32, mut f: impl FnMut() -> T) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    f64::from(n) / t.elapsed().as_secs_f64()
}

fn main() {
    use ed25519_dalek::{Signer as _, Verifier as _};
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"p","predicate":{}}"#.to_vec();
    let pae = gantry_attest::pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    let n = 2000;

    let key = PrivateKey::ed25519_from_seed(&[7u8; 32]).unwrap();
    let raw = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &[&key]).unwrap();
    let keys = [key.public_key().clone()];
    let raw_sig = raw.sign(&pae);
    let g_sign = rate(n, || {
        Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &[&key]).unwrap()
    });
    let r_sign = rate(n, || raw.sign(&pae));
    let g_ver = rate(n, || assert!(env.verify(&keys)[0].verified_by.is_some()));
    let r_ver = rate(n, || raw.verifying_key().verify(&pae, &raw_sig).unwrap());
    println!(
        "ed25519    sign/s gantry {g_sign:>9.0}  raw {r_sign:>9.0}  ratio {:.2}",
        g_sign / r_sign
    );
    println!(
        "ed25519  verify/s gantry {g_ver:>9.0}  raw {r_ver:>9.0}  ratio {:.2}",
        g_ver / r_ver
    );

    let scalar = [9u8; 32];
    let key = PrivateKey::p256_from_scalar(&scalar).unwrap();
    let raw = p256::ecdsa::SigningKey::from_slice(&scalar).unwrap();
    let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &[&key]).unwrap();
    let keys = [key.public_key().clone()];
    let raw_sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&raw, &pae);
    let g_sign = rate(n, || {
        Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload.clone(), &[&key]).unwrap()
    });
    let r_sign = rate(n, || -> p256::ecdsa::Signature {
        p256::ecdsa::signature::Signer::sign(&raw, &pae)
    });
    let g_ver = rate(n, || assert!(env.verify(&keys)[0].verified_by.is_some()));
    let r_ver = rate(n, || raw.verifying_key().verify(&pae, &raw_sig).unwrap());
    println!(
        "p256       sign/s gantry {g_sign:>9.0}  raw {r_sign:>9.0}  ratio {:.2}",
        g_sign / r_sign
    );
    println!(
        "p256     verify/s gantry {g_ver:>9.0}  raw {r_ver:>9.0}  ratio {:.2}",
        g_ver / r_ver
    );
}

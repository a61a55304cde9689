//! Feeds arbitrary text to the private and public key readers (PKCS#8 PEM,
//! encrypted PKCS#8, SPKI PEM and DER). Encrypted keys are decrypted only
//! when their KDF parameters are cheap, so the fuzzer exercises the parsing
//! and decryption code rather than a real key derivation. A key that reads
//! must sign, verify its own signature and write back to the same key.

#![no_main]

use gantry_attest::{PrivateKey, PublicKey};
use libfuzzer_sys::fuzz_target;
use pkcs8::der::Decode;
use pkcs8::pkcs5::{EncryptionScheme, pbes2};

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_der(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(public) = PublicKey::from_pem(text) {
        let again = PublicKey::from_pem(&public.to_pem()).expect("a public key writes back");
        assert_eq!(again.key_id(), public.key_id());
        assert!(!public.verify(b"message", &[0; 64]));
    }
    let password: Option<&[u8]> = cheap_encryption(text).then_some(b"fuzz");
    if let Ok(key) = PrivateKey::from_pem(text, password) {
        let signature = key.sign(b"message").expect("a key that reads signs");
        assert!(key.public_key().verify(b"message", &signature));
        let pem = key.to_pem(None).expect("a key that reads writes back");
        let again = PrivateKey::from_pem(&pem, None).expect("its PEM reads back");
        assert_eq!(again.key_id(), key.key_id());
    }
});

/// Whether `text` is an encrypted PKCS#8 key whose key derivation costs
/// next to nothing (scrypt N·r·p at most 64, PBKDF2 at most 64 rounds).
fn cheap_encryption(text: &str) -> bool {
    let Ok((label, doc)) = pkcs8::SecretDocument::from_pem(text) else {
        return false;
    };
    if label != "ENCRYPTED PRIVATE KEY" {
        return false;
    }
    let Ok(info) = pkcs8::EncryptedPrivateKeyInfoRef::from_der(doc.as_bytes()) else {
        return false;
    };
    match &info.encryption_algorithm {
        EncryptionScheme::Pbes2(params) => match &params.kdf {
            pbes2::Kdf::Pbkdf2(p) => p.iteration_count <= 64,
            pbes2::Kdf::Scrypt(s) => {
                s.cost_parameter
                    .saturating_mul(u64::from(s.block_size))
                    .saturating_mul(u64::from(s.parallelization))
                    <= 64
            }
            _ => false,
        },
        _ => true,
    }
}

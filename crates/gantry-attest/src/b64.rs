//! Base64 as DSSE wants it: standard alphabet with padding when writing;
//! standard or URL-safe, padded or not, when reading.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const INDIFFERENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, INDIFFERENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, INDIFFERENT);

/// Standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Text that is base64 in neither alphabet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct DecodeError(#[from] base64::DecodeError);

/// Decodes standard or URL-safe base64, with or without padding.
pub fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .map_err(DecodeError)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_alphabets_and_paddings() {
        let bytes = [0xfbu8, 0xff, 0xfe, 0x01];
        assert_eq!(encode(&bytes), "+//+AQ==");
        for text in ["+//+AQ==", "+//+AQ", "-__-AQ==", "-__-AQ"] {
            assert_eq!(decode(text).unwrap(), bytes, "{text}");
        }
        assert!(decode("+/_-AQ==").is_err(), "mixed alphabets");
        let err = decode("not base64!").unwrap_err();
        assert!(err.to_string().contains("Invalid"), "{err}");
    }
}

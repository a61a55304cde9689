//! Numbers: GitHub's string-to-number coercion and number-to-string formatting.
//!
//! GitHub's evaluator (the .NET `GitHub.Actions.Expressions` library) turns a
//! string into a number the way JavaScript's `Number()` does, with a few .NET
//! twists: surrounding whitespace is ignored, the empty string is `0`, decimal
//! literals may carry a sign and an exponent, `0x` (hexadecimal) and `0o`
//! (octal) prefixes are accepted for 32-bit integers, and `Infinity` / `NaN`
//! are recognised. Anything else is `NaN`.
//!
//! Numbers are shown with .NET's `G15` format: at most 15 significant digits,
//! switching to scientific notation (`1E+15`, `1E-05`) for very large and very
//! small magnitudes. Negative zero is shown as `0`.

/// Converts a string to a number as GitHub does; `NaN` when it is not one.
pub(crate) fn parse_number(text: &str) -> f64 {
    let s = text.trim();
    if s.is_empty() {
        return 0.0;
    }
    if let Some(value) = parse_decimal(s) {
        return value;
    }
    if let Some(value) = parse_special(s) {
        return value;
    }
    if let Some(digits) = s.strip_prefix("0x") {
        return parse_radix_i32(digits, 16).unwrap_or(f64::NAN);
    }
    if let Some(digits) = s.strip_prefix("0o") {
        return parse_radix_i32(digits, 8).unwrap_or(f64::NAN);
    }
    f64::NAN
}

/// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`, as .NET's
/// `Double.TryParse` accepts with a leading sign, a decimal point and an
/// exponent allowed.
fn parse_decimal(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let mut i = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    // The grammar above is a subset of what Rust's parser accepts, and Rust
    // rounds correctly (and overflows to infinity, as .NET Core does).
    s.parse::<f64>().ok()
}

/// The infinity and NaN symbols .NET accepts (case-insensitively).
fn parse_special(s: &str) -> Option<f64> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1.0, &s[1..]),
        Some(b'-') => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    if rest.eq_ignore_ascii_case("Infinity") {
        Some(sign * f64::INFINITY)
    } else if rest.eq_ignore_ascii_case("NaN") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// A 32-bit integer in base 16 or 8, as .NET's `Int32` parsing reads one:
/// values up to `u32::MAX` wrap to negative numbers, larger ones fail.
fn parse_radix_i32(digits: &str, radix: u32) -> Option<f64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0.0);
    }
    let value = u32::from_str_radix(significant, radix).ok()?;
    // Reinterpreting the bits is the documented .NET behaviour.
    #[allow(clippy::cast_possible_wrap)]
    let signed = value as i32;
    Some(f64::from(signed))
}

/// Formats a number as GitHub shows it (`G15`; `-0` shows as `0`).
pub(crate) fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    format_g15(value)
}

/// Formats a number literal so that it reads back as exactly the same number.
///
/// This is the `G15` form whenever that is exact, and the shortest exact
/// scientific form otherwise. Negative zero is written `-0`.
pub(crate) fn format_literal(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let g15 = format_g15(value);
    if value.is_nan() || parse_number(&g15).to_bits() == value.to_bits() {
        g15
    } else {
        format!("{value:e}")
    }
}

/// .NET's `Double.ToString("G15", InvariantCulture)`.
fn format_g15(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    // 15 significant digits, correctly rounded: d.dddddddddddddde±x
    let scientific = format!("{:.14e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };

    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    if !(-4..15).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('E');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    } else if exponent >= 0 {
        let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        let zeros = usize::try_from(-exponent - 1).unwrap_or(0);
        out.extend(std::iter::repeat_n('0', zeros));
        out.push_str(digits);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_github() {
        assert_eq!(parse_number(""), 0.0);
        assert_eq!(parse_number("   "), 0.0);
        assert_eq!(parse_number(" 123456.789 "), 123456.789);
        assert_eq!(parse_number(" +1.2e2 "), 120.0);
        assert_eq!(parse_number("-1.2E+2"), -120.0);
        assert_eq!(parse_number(".5"), 0.5);
        assert_eq!(parse_number("5."), 5.0);
        assert_eq!(parse_number(" 0xff "), 255.0);
        assert_eq!(parse_number("0xFF"), 255.0);
        assert_eq!(parse_number("0xFFFFFFFF"), -1.0);
        assert!(parse_number("0x100000000").is_nan());
        assert!(parse_number("0XFF").is_nan());
        assert!(parse_number("-0xFF").is_nan());
        assert_eq!(parse_number("0o10"), 8.0);
        assert!(parse_number("0o8").is_nan());
        assert_eq!(parse_number("Infinity"), f64::INFINITY);
        assert_eq!(parse_number("+Infinity"), f64::INFINITY);
        assert_eq!(parse_number(" -Infinity "), f64::NEG_INFINITY);
        assert!(parse_number("NaN").is_nan());
        assert!(parse_number("-Inf").is_nan());
        assert!(parse_number("1e").is_nan());
        assert!(parse_number(".").is_nan());
        assert!(parse_number("abc").is_nan());
        assert!(parse_number("1_000").is_nan());
        assert!(parse_number("0x01p2").is_nan());
        assert_eq!(parse_number("1e400"), f64::INFINITY);
    }

    #[test]
    fn formats_like_dotnet_g15() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (-0.5, "-0.5"),
            (-0.0, "0"),
            (123456.789, "123456.789"),
            (0.845_512_408_225_57, "0.84551240822557"),
            (1.2e-2, "0.012"),
            (1234.56, "1234.56"),
            (120.0, "120"),
            (1e14, "100000000000000"),
            (1e15, "1E+15"),
            (123_456_789_012_345_680.0, "1.23456789012346E+17"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (-1.5e-7, "-1.5E-07"),
            (0.1 + 0.2, "0.3"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
            (1e300, "1E+300"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_number(value), expected, "{value}");
        }
    }

    #[test]
    fn literals_round_trip() {
        for value in [
            0.1 + 0.2,
            1e300,
            -1e-300,
            0.845_512_408_225_57,
            -0.0,
            5e-324,
        ] {
            let text = format_literal(value);
            assert_eq!(parse_number(&text).to_bits(), value.to_bits(), "{text}");
        }
    }
}

//! Timestamps: RFC 3339 in UTC, and `SOURCE_DATE_EPOCH` for reproducible
//! output.

/// Seconds since the Unix epoch: `SOURCE_DATE_EPOCH` when it is set to an
/// integer, else the clock.
pub fn now_or_source_date_epoch() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or_else(now)
}

/// Seconds since the Unix epoch, from the clock.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A jiff timestamp, out-of-range seconds clamped to its limits (a wild
/// `SOURCE_DATE_EPOCH` must not panic).
fn timestamp(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: i64) -> String {
    timestamp(secs).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `YYYYMMDD` of the UTC day.
pub fn yyyymmdd(secs: i64) -> String {
    timestamp(secs).strftime("%Y%m%d").to_string()
}

/// Parses an RFC 3339 date-time (`Z` or `±HH:MM` offset, fractional
/// seconds allowed) into seconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    // A date alone, or a date-time without an offset, names no instant.
    if text.len() < 20
        || !text
            .as_bytes()
            .get(10)
            .is_some_and(|b| matches!(b, b'T' | b't'))
    {
        return None;
    }
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for secs in [0, 951_782_400, 1_700_000_000, 4_102_444_799, -1] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs), "{secs}");
        }
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(yyyymmdd(1_700_000_000), "20231114");
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20.5+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("2023-11-14"), None);
        assert_eq!(parse_rfc3339("2023-13-14T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20"), None);
        assert!(rfc3339(i64::MAX).starts_with("9999-12-"));
    }
}

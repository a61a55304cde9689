//! Timestamps without a clock dependency: RFC 3339 in UTC, and
//! `SOURCE_DATE_EPOCH` for reproducible output.

/// Seconds since the Unix epoch: `SOURCE_DATE_EPOCH` when it is set to an
/// integer (reproducible builds), else the clock.
pub fn now_or_source_date_epoch() -> i64 {
    if let Some(secs) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        return secs;
    }
    now()
}

/// Seconds since the Unix epoch from the clock.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SSZ`. Times beyond the years -9999 to 9999 (a wild
/// `SOURCE_DATE_EPOCH`) show as the nearest of those.
pub fn format_rfc3339(secs: i64) -> String {
    let t = jiff::Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses an RFC 3339 time (`2023-11-14T22:13:20Z`, fractional seconds
/// and `±HH:MM` offsets allowed) or a bare `YYYY-MM-DD` (midnight UTC)
/// into seconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let date: jiff::civil::Date = text.parse().ok()?;
    // Only a bare date: a date-time without an offset names no instant.
    if text.len() != 10 {
        return None;
    }
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.946863Z"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_rfc3339("2024-13-01"), None);
        assert_eq!(parse_rfc3339("soon"), None);
        assert_eq!(parse_rfc3339("2024-02-30"), None);
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20"), None, "no offset");
        assert_eq!(parse_rfc3339("2023-11-14t22:13:20z"), Some(1_700_000_000));
        // Out of range: clamped to jiff's limits, not a panic.
        assert!(format_rfc3339(i64::MAX).starts_with("9999-12-"));
        assert!(
            format_rfc3339(i64::MIN).contains("9999-01-"),
            "{}",
            format_rfc3339(i64::MIN)
        );
    }
}

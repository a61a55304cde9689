//! Promotion windows: when a transition may happen, as allow and deny
//! schedules in a named IANA time zone.
//!
//! # Schedule syntax
//!
//! Each entry of `allow:` or `deny:` is one span, in one of three forms
//! (day names are `Mon`..`Sun` or `Monday`..`Sunday`, any case; times are
//! `HH:MM`, 24-hour, and `24:00` may end a daily span):
//!
//! - **weekly**: `Fri 16:00 - Mon 08:00`, from one weekday and time to
//!   another; it wraps over the week's end when the end comes before the
//!   start in the week (as here: Friday afternoon to Monday morning).
//! - **daily, on some weekdays**: `Mon-Fri 08:00-18:00`, `Sat,Sun
//!   10:00-12:00`, `Sat 00:00-24:00`: the same hours on each listed day (a
//!   range `Fri-Mon` wraps over the week's end). When the end is before the
//!   start (`Mon-Fri 22:00-06:00`) the span runs overnight, from the listed
//!   day into the next.
//! - **dates**: `2026-12-24 - 2026-12-27` (whole days, both inclusive),
//!   `2026-12-25` (one whole day), or with times
//!   `2026-12-24 18:00 - 2027-01-02 08:00`. The dash between two dates
//!   needs spaces around it.
//!
//! A span includes its start and excludes its end.
//!
//! # Evaluation
//!
//! A span is wall-clock time in the window's time zone, so `Fri 16:00` is
//! 16:00 local time in summer and in winter (jiff's time-zone database,
//! DST-correct). An instant is *denied* when its local time is inside any
//! deny span; deny wins over allow. When allow spans are given, an instant
//! outside all of them is not allowed either. Either way the check is
//! `pending` (waiting helps), and the reason names the span, the zone and
//! the next instant at which promotion becomes allowed; a window that can
//! never open again (every allow span a date in the past) fails.
//!
//! Local times that do not exist (skipped by a change to summer time) are
//! never inside a span; an end that falls into such a gap ends at the
//! change itself. Local times that happen twice (the change back) are
//! inside a span both times, and "until" is the first occurrence after now.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::outcome::Outcome;

const DAY_SECS: i64 = 86_400;
const WEEK_SECS: i64 = 7 * DAY_SECS;
/// How many span boundaries the search for the next allowed instant
/// follows before giving up (spans chained end to start).
const MAX_STEPS: usize = 256;

/// Allow and deny schedules in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub timezone: TimeZone,
    /// The IANA name, as written.
    pub tz_name: String,
    pub allow: Vec<Span>,
    pub deny: Vec<Span>,
}

/// One span of a schedule, and the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    kind: SpanKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SpanKind {
    /// Seconds of the week from Monday 00:00; wraps when `end <= start`.
    Weekly { start: i64, end: i64 },
    /// Days (bit 0 = Monday) and seconds of the day; overnight when
    /// `end <= start`.
    Daily { days: u8, start: i64, end: i64 },
    /// `[start, end)` of civil time.
    Dates { start: DateTime, end: DateTime },
}

/// What is wrong with a schedule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    #[error(
        "unknown time zone `{name}`: {reason} (use an IANA name such as `Europe/Berlin` or `UTC`)"
    )]
    UnknownTimeZone { name: String, reason: String },
    #[error("{list} span {index} `{text}`: {problem}")]
    Span {
        /// `allow` or `deny`.
        list: &'static str,
        /// 1-based position in its list.
        index: usize,
        text: String,
        problem: SpanProblem,
    },
}

/// Why a span's text is not a span.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpanProblem {
    #[error("the span is empty")]
    Empty,
    #[error("`{0}` is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")]
    Day(String),
    #[error("`{0}` is not a time HH:MM")]
    Time(String),
    #[error("`{0}` is not a date YYYY-MM-DD")]
    Date(String),
    #[error("expected `Fri 16:00 - Mon 08:00`, `Mon-Fri 08:00-18:00` or `2026-12-24 - 2026-12-27`")]
    Shape,
    #[error("it starts and ends at the same time")]
    Zero,
    #[error("it ends before it starts")]
    Backwards,
}

impl Window {
    /// Reads a window: an IANA time zone name and the allow and deny spans.
    pub fn parse(tz: &str, allow: &[String], deny: &[String]) -> Result<Window, WindowError> {
        let timezone = TimeZone::get(tz).map_err(|e| WindowError::UnknownTimeZone {
            name: tz.to_string(),
            reason: e.to_string(),
        })?;
        let spans = |list: &'static str, texts: &[String]| {
            texts
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    Span::parse(text).map_err(|problem| WindowError::Span {
                        list,
                        index: i + 1,
                        text: text.clone(),
                        problem,
                    })
                })
                .collect::<Result<Vec<Span>, WindowError>>()
        };
        Ok(Window {
            timezone,
            tz_name: tz.to_string(),
            allow: spans("allow", allow)?,
            deny: spans("deny", deny)?,
        })
    }

    /// Whether `now` is inside the window: pass, or pending until the next
    /// allowed instant (fail when no allowed instant ever comes).
    pub fn check(&self, now: Timestamp) -> Outcome {
        let local = self.timezone.to_datetime(now);
        let first_deny = self.deny.iter().find(|s| s.end_if_inside(local).is_some());
        let in_allow = self.allow.iter().find(|s| s.end_if_inside(local).is_some());
        let blocker = match (first_deny, in_allow) {
            (Some(d), _) => format!("in deny window {}", d.text),
            (None, None) if !self.allow.is_empty() => {
                let names: Vec<&str> = self.allow.iter().map(|s| s.text.as_str()).collect();
                format!("outside the allow windows {}", names.join(", "))
            }
            (None, Some(a)) => {
                return Outcome::pass(format!("inside allow window {} ({})", a.text, self.tz_name));
            }
            (None, None) => {
                return Outcome::pass(format!("no deny window applies ({})", self.tz_name));
            }
        };
        match self.next_allowed(local) {
            Some(when) => {
                let until = self.instant_after(when, now);
                let shown = until
                    .to_zoned(self.timezone.clone())
                    .strftime("%Y-%m-%dT%H:%M%:z")
                    .to_string();
                Outcome::pending(format!("{blocker} ({}) until {shown}", self.tz_name))
            }
            None => Outcome::fail(format!(
                "{blocker} ({}), and no allowed time comes after it",
                self.tz_name
            )),
        }
    }

    /// The first local time at or after `from` that no deny span holds and,
    /// with allow spans, some allow span holds.
    fn next_allowed(&self, from: DateTime) -> Option<DateTime> {
        let mut t = from;
        for _ in 0..MAX_STEPS {
            if let Some(end) = self.deny.iter().filter_map(|s| s.end_if_inside(t)).max() {
                t = end;
                continue;
            }
            if self.allow.is_empty() || self.allow.iter().any(|s| s.end_if_inside(t).is_some()) {
                return Some(t);
            }
            t = self.allow.iter().filter_map(|s| s.next_start(t)).min()?;
        }
        None
    }

    /// The instant of local time `dt`: in a gap, the change itself; when
    /// it happens twice, the first occurrence after `after`.
    fn instant_after(&self, dt: DateTime, after: Timestamp) -> Timestamp {
        let ambiguous = self.timezone.to_ambiguous_timestamp(dt);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).unwrap_or(after),
            AmbiguousOffset::Gap { before, .. } => {
                // `dt` read with the offset before the gap is past the
                // change; the change is the transition just before it.
                let past = before.to_timestamp(dt).unwrap_or(after);
                self.timezone
                    .preceding(past)
                    .next()
                    .map_or(past, |t| t.timestamp())
            }
            AmbiguousOffset::Fold {
                before,
                after: later,
            } => {
                let first = before.to_timestamp(dt).unwrap_or(after);
                if first > after {
                    first
                } else {
                    later.to_timestamp(dt).unwrap_or(after)
                }
            }
        }
    }
}

impl Span {
    /// Reads one span (see the module documentation for the forms).
    pub fn parse(text: &str) -> Result<Span, SpanProblem> {
        let trimmed = text.trim();
        let first = trimmed.chars().next().ok_or(SpanProblem::Empty)?;
        let kind = if first.is_ascii_digit() {
            parse_dates(trimmed)?
        } else {
            parse_days(trimmed)?
        };
        Ok(Span {
            text: trimmed.to_string(),
            kind,
        })
    }

    /// When the span holds local time `t`: the local time it ends.
    fn end_if_inside(&self, t: DateTime) -> Option<DateTime> {
        match &self.kind {
            SpanKind::Weekly { start, end } => {
                let m = week_second(t);
                let inside = if start < end {
                    (*start..*end).contains(&m)
                } else {
                    m >= *start || m < *end
                };
                inside.then(|| add_secs(t, (end - m).rem_euclid(WEEK_SECS)))?
            }
            SpanKind::Daily { days, start, end } => {
                let s = day_second(t);
                let midnight = t.date().to_datetime(Time::midnight());
                if start < end {
                    (has_day(*days, t.date().weekday()) && (*start..*end).contains(&s))
                        .then(|| add_secs(midnight, *end))?
                } else if s >= *start && has_day(*days, t.date().weekday()) {
                    add_secs(midnight, DAY_SECS + end)
                } else if s < *end && has_day(*days, t.date().weekday().previous()) {
                    add_secs(midnight, *end)
                } else {
                    None
                }
            }
            SpanKind::Dates { start, end } => (*start <= t && t < *end).then_some(*end),
        }
    }

    /// The first local time after `t` at which the span starts.
    fn next_start(&self, t: DateTime) -> Option<DateTime> {
        match &self.kind {
            SpanKind::Weekly { start, .. } => {
                let ahead = (start - week_second(t)).rem_euclid(WEEK_SECS);
                add_secs(t, if ahead == 0 { WEEK_SECS } else { ahead })
            }
            SpanKind::Daily { days, start, .. } => {
                let midnight = t.date().to_datetime(Time::midnight());
                (0..=7).find_map(|k| {
                    let day = midnight.checked_add(k.days()).ok()?;
                    let begin = add_secs(day, *start)?;
                    (has_day(*days, day.date().weekday()) && begin > t).then_some(begin)
                })
            }
            SpanKind::Dates { start, .. } => (*start > t).then_some(*start),
        }
    }
}

fn add_secs(t: DateTime, secs: i64) -> Option<DateTime> {
    t.checked_add(SignedDuration::from_secs(secs)).ok()
}

fn week_second(t: DateTime) -> i64 {
    i64::from(t.date().weekday().to_monday_zero_offset()) * DAY_SECS + day_second(t)
}

fn day_second(t: DateTime) -> i64 {
    i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

fn has_day(days: u8, day: Weekday) -> bool {
    days & (1 << day.to_monday_zero_offset()) != 0
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "monday"),
    ("tue", "tuesday"),
    ("wed", "wednesday"),
    ("thu", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
];

/// Monday = 0.
fn parse_day(word: &str) -> Result<i8, SpanProblem> {
    let lower = word.to_ascii_lowercase();
    DAYS.iter()
        .position(|(short, long)| lower == *short || lower == *long)
        .and_then(|i| i8::try_from(i).ok())
        .ok_or_else(|| SpanProblem::Day(word.to_string()))
}

/// `HH:MM` as seconds of the day; `24:00` when `allow_24`.
fn parse_time(word: &str, allow_24: bool) -> Result<i64, SpanProblem> {
    let bad = || SpanProblem::Time(word.to_string());
    let (h, m) = word.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    if (h == 24 && m == 0 && allow_24) || (h < 24 && m < 60) {
        Ok(h * 3600 + m * 60)
    } else {
        Err(bad())
    }
}

/// Tokens with every dash standing alone (for the day forms, which hold
/// no dates).
fn dash_tokens(text: &str) -> Vec<String> {
    text.replace('-', " - ")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn parse_days(text: &str) -> Result<SpanKind, SpanProblem> {
    let (spec, rest) = text
        .split_once(char::is_whitespace)
        .ok_or(SpanProblem::Shape)?;
    let rest = rest.trim();
    let is_list = spec.contains(['-', ',']);
    if !is_list && rest.contains(|c: char| c.is_ascii_alphabetic()) {
        // Weekly: DAY TIME - DAY TIME.
        let start_day = parse_day(spec)?;
        let tokens = dash_tokens(rest);
        let [start_time, dash, end_day, end_time] = tokens.as_slice() else {
            return Err(SpanProblem::Shape);
        };
        if dash != "-" {
            return Err(SpanProblem::Shape);
        }
        let start = i64::from(start_day) * DAY_SECS + parse_time(start_time, false)?;
        let end = (i64::from(parse_day(end_day)?) * DAY_SECS + parse_time(end_time, true)?)
            .rem_euclid(WEEK_SECS);
        if start == end {
            return Err(SpanProblem::Zero);
        }
        return Ok(SpanKind::Weekly { start, end });
    }
    // Daily: DAYS TIME-TIME.
    let mut days = 0u8;
    for item in spec.split(',') {
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a)?, parse_day(b)?);
                let mut d = a;
                loop {
                    days |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days |= 1 << parse_day(item)?,
        }
    }
    let tokens = dash_tokens(rest);
    let [start, dash, end] = tokens.as_slice() else {
        return Err(SpanProblem::Shape);
    };
    if dash != "-" {
        return Err(SpanProblem::Shape);
    }
    let start = parse_time(start, false)?;
    let end = parse_time(end, true)?;
    if start == end {
        return Err(SpanProblem::Zero);
    }
    Ok(SpanKind::Daily { days, start, end })
}

fn parse_date(word: &str) -> Result<Date, SpanProblem> {
    let bad = || SpanProblem::Date(word.to_string());
    if word.len() != 10 {
        return Err(bad());
    }
    word.parse::<Date>().map_err(|_| bad())
}

/// `DATE [TIME] [- DATE [TIME]]`.
fn parse_dates(text: &str) -> Result<SpanKind, SpanProblem> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let (left, right) = match tokens.iter().position(|t| *t == "-") {
        Some(i) => (&tokens[..i], Some(&tokens[i + 1..])),
        None => (&tokens[..], None),
    };
    // An end date without a time is inclusive: its next midnight.
    let point = |side: &[&str], is_end: bool| -> Result<DateTime, SpanProblem> {
        match side {
            [date] => {
                let date = parse_date(date)?;
                let day = if is_end {
                    date.tomorrow()
                        .map_err(|_| SpanProblem::Date(date.to_string()))?
                } else {
                    date
                };
                Ok(day.to_datetime(Time::midnight()))
            }
            [date, time] => {
                let secs = parse_time(time, false)?;
                add_secs(parse_date(date)?.to_datetime(Time::midnight()), secs)
                    .ok_or_else(|| SpanProblem::Time((*time).to_string()))
            }
            _ => Err(SpanProblem::Shape),
        }
    };
    let start = point(left, false)?;
    let end = match right {
        Some(right) => point(right, true)?,
        None if left.len() == 1 => point(left, true)?,
        None => return Err(SpanProblem::Shape),
    };
    if end == start {
        return Err(SpanProblem::Zero);
    }
    if end < start {
        return Err(SpanProblem::Backwards);
    }
    Ok(SpanKind::Dates { start, end })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::GateResult;

    fn window(tz: &str, allow: &[&str], deny: &[&str]) -> Window {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Window::parse(tz, &own(allow), &own(deny)).unwrap()
    }

    fn at(ts: &str) -> Timestamp {
        ts.parse().unwrap()
    }

    #[test]
    fn friday_to_monday_freeze_wraps_over_the_week_end() {
        let w = window("Europe/Berlin", &[], &["Fri 16:00 - Mon 08:00"]);
        // Sunday 2026-12-06 23:00 in Berlin.
        let o = w.check(at("2026-12-06T22:00:00Z"));
        assert_eq!(o.result, GateResult::Pending, "{o:?}");
        assert_eq!(
            o.reason,
            "in deny window Fri 16:00 - Mon 08:00 (Europe/Berlin) until 2026-12-07T08:00+01:00"
        );
        // Friday 15:59 Berlin: not yet; 16:00: denied; Monday 08:00: free.
        assert_eq!(w.check(at("2026-12-04T14:59:00Z")).result, GateResult::Pass);
        assert_eq!(
            w.check(at("2026-12-04T15:00:00Z")).result,
            GateResult::Pending
        );
        assert_eq!(
            w.check(at("2026-12-07T06:59:59Z")).result,
            GateResult::Pending
        );
        assert_eq!(w.check(at("2026-12-07T07:00:00Z")).result, GateResult::Pass);
        // Saturday is inside.
        assert_eq!(
            w.check(at("2026-12-05T12:00:00Z")).result,
            GateResult::Pending
        );
        // Wednesday is not.
        assert_eq!(w.check(at("2026-12-02T12:00:00Z")).result, GateResult::Pass);
    }

    #[test]
    fn weekly_span_is_wall_clock_time_in_summer_and_winter() {
        let w = window("Europe/Berlin", &[], &["Fri 16:00 - Mon 08:00"]);
        // Friday 2026-07-03 16:00 CEST is 14:00Z.
        assert_eq!(w.check(at("2026-07-03T13:59:00Z")).result, GateResult::Pass);
        let o = w.check(at("2026-07-03T14:00:00Z"));
        assert_eq!(o.result, GateResult::Pending);
        assert!(o.reason.ends_with("until 2026-07-06T08:00+02:00"), "{o:?}");
    }

    #[test]
    fn allow_spans_make_other_times_pending_until_the_next_opening() {
        let w = window("America/New_York", &["Mon-Fri 08:00-18:00"], &[]);
        // Saturday 2026-12-05 12:00 EST.
        let o = w.check(at("2026-12-05T17:00:00Z"));
        assert_eq!(o.result, GateResult::Pending);
        assert_eq!(
            o.reason,
            "outside the allow windows Mon-Fri 08:00-18:00 (America/New_York) until 2026-12-07T08:00-05:00"
        );
        // Tuesday 10:00 EST.
        let o = w.check(at("2026-12-08T15:00:00Z"));
        assert_eq!(o.result, GateResult::Pass, "{o:?}");
        assert!(o.reason.contains("inside allow window"), "{o:?}");
        // Tuesday 18:00 EST: the end is excluded; next is Wednesday 08:00.
        let o = w.check(at("2026-12-08T23:00:00Z"));
        assert!(o.reason.ends_with("until 2026-12-09T08:00-05:00"), "{o:?}");
    }

    #[test]
    fn deny_wins_over_allow_and_chains_to_the_next_allowed_instant() {
        let w = window(
            "UTC",
            &["Mon-Fri 08:00-18:00"],
            &[
                "2026-12-24 - 2026-12-27",
                "2026-12-28 00:00 - 2026-12-28 12:00",
            ],
        );
        // Thursday 24th 10:00 is in an allow span but denied; the dates end
        // on Monday 28th 00:00, the second deny span until 12:00, which is
        // inside the allow span.
        let o = w.check(at("2026-12-24T10:00:00Z"));
        assert_eq!(o.result, GateResult::Pending);
        assert_eq!(
            o.reason,
            "in deny window 2026-12-24 - 2026-12-27 (UTC) until 2026-12-28T12:00+00:00"
        );
        // The dates are whole days, inclusive.
        assert_eq!(w.check(at("2026-12-23T17:59:00Z")).result, GateResult::Pass);
        assert_eq!(
            w.check(at("2026-12-27T23:59:59Z")).result,
            GateResult::Pending
        );
    }

    #[test]
    fn overnight_daily_span_runs_into_the_next_day() {
        let w = window("UTC", &[], &["Mon-Fri 22:00-06:00"]);
        // Friday 23:00 is inside, until Saturday 06:00.
        let o = w.check(at("2026-12-04T23:00:00Z"));
        assert!(o.reason.ends_with("until 2026-12-05T06:00+00:00"), "{o:?}");
        // Saturday 05:00 still belongs to Friday's night.
        assert_eq!(
            w.check(at("2026-12-05T05:00:00Z")).result,
            GateResult::Pending
        );
        // Sunday 05:00 does not (Saturday is not listed).
        assert_eq!(w.check(at("2026-12-06T05:00:00Z")).result, GateResult::Pass);
        // Monday 01:00 belongs to no listed night (Sunday is not listed).
        assert_eq!(w.check(at("2026-12-07T01:00:00Z")).result, GateResult::Pass);
    }

    #[test]
    fn spring_forward_gap_end_is_the_change_itself() {
        // Europe/Berlin skips 02:00-03:00 on 2026-03-29.
        let w = window("Europe/Berlin", &[], &["Sat 22:00 - Sun 02:30"]);
        // 01:30 CET = 00:30Z: inside; 02:30 never happens, so the span
        // ends at the change, 03:00 CEST = 01:00Z.
        let o = w.check(at("2026-03-29T00:30:00Z"));
        assert_eq!(o.result, GateResult::Pending);
        assert!(o.reason.ends_with("until 2026-03-29T03:00+02:00"), "{o:?}");
        assert_eq!(w.check(at("2026-03-29T01:00:00Z")).result, GateResult::Pass);
        // A span wholly inside the gap holds no instant.
        let gap = window("Europe/Berlin", &[], &["Sun 02:15 - Sun 02:45"]);
        for t in [
            "2026-03-29T00:59:59Z",
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:30:00Z",
        ] {
            assert_eq!(gap.check(at(t)).result, GateResult::Pass, "{t}");
        }
    }

    #[test]
    fn fall_back_fold_is_inside_both_times_and_until_is_after_now() {
        // Europe/Berlin repeats 02:00-03:00 on 2026-10-25.
        let w = window("Europe/Berlin", &[], &["Sun 00:00 - Sun 02:30"]);
        // 02:10 CEST (00:10Z): inside, until 02:30 CEST (00:30Z).
        let o = w.check(at("2026-10-25T00:10:00Z"));
        assert!(o.reason.ends_with("until 2026-10-25T02:30+02:00"), "{o:?}");
        // 02:10 CET (01:10Z), the second time round: inside again, and the
        // end is the second 02:30, not the one already past.
        let o = w.check(at("2026-10-25T01:10:00Z"));
        assert_eq!(o.result, GateResult::Pending);
        assert!(o.reason.ends_with("until 2026-10-25T02:30+01:00"), "{o:?}");
        // 02:40 CEST (00:40Z) is outside.
        assert_eq!(w.check(at("2026-10-25T00:40:00Z")).result, GateResult::Pass);
    }

    #[test]
    fn deny_spans_covering_the_whole_week_never_open() {
        let w = window(
            "UTC",
            &[],
            &["Mon 00:00 - Thu 00:00", "Wed 00:00 - Mon 00:00"],
        );
        let o = w.check(at("2026-12-06T22:00:00Z"));
        assert_eq!(o.result, GateResult::Fail, "{o:?}");
        assert_eq!(
            o.reason,
            "in deny window Wed 00:00 - Mon 00:00 (UTC), and no allowed time comes after it"
        );
    }

    #[test]
    fn allow_only_in_the_past_fails_as_never_open() {
        let w = window("UTC", &["2020-01-01 - 2020-01-02"], &[]);
        let o = w.check(at("2026-12-06T22:00:00Z"));
        assert_eq!(o.result, GateResult::Fail);
        assert!(o.reason.contains("no allowed time comes"), "{o:?}");
    }

    #[test]
    fn day_forms_single_lists_ranges_and_whole_days() {
        let w = window(
            "UTC",
            &[],
            &["Sat,Sun 00:00-24:00", "wednesday 12:00 - thu 01:00"],
        );
        assert_eq!(
            w.check(at("2026-12-06T23:59:00Z")).result,
            GateResult::Pending
        );
        let o = w.check(at("2026-12-05T10:00:00Z"));
        assert!(o.reason.ends_with("until 2026-12-07T00:00+00:00"), "{o:?}");
        assert_eq!(
            w.check(at("2026-12-09T13:00:00Z")).result,
            GateResult::Pending
        );
        assert_eq!(w.check(at("2026-12-10T01:00:00Z")).result, GateResult::Pass);
        let fri_mon = window("UTC", &[], &["Fri-Mon 09:00-10:00"]);
        // Sunday 09:30 is in the wrapping range.
        assert_eq!(
            fri_mon.check(at("2026-12-06T09:30:00Z")).result,
            GateResult::Pending
        );
        assert_eq!(
            fri_mon.check(at("2026-12-08T09:30:00Z")).result,
            GateResult::Pass
        );
    }

    #[test]
    fn bad_schedules_say_which_text_and_why() {
        let err = |tz: &str, allow: &[&str], deny: &[&str]| {
            let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            Window::parse(tz, &own(allow), &own(deny))
                .unwrap_err()
                .to_string()
        };
        assert!(err("Mars/Olympus", &[], &[]).contains("unknown time zone `Mars/Olympus`"));
        assert_eq!(
            err(
                "UTC",
                &[],
                &["Fri 16:00 - Mon 08:00", "Fry 16:00 - Mon 08:00"]
            ),
            "deny span 2 `Fry 16:00 - Mon 08:00`: `Fry` is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"
        );
        assert_eq!(
            err("UTC", &["Mon-Fri 08:00-25:00"], &[]),
            "allow span 1 `Mon-Fri 08:00-25:00`: `25:00` is not a time HH:MM"
        );
        assert!(err("UTC", &[], &["2026-12-27 - 2026-12-24"]).contains("ends before it starts"));
        assert!(err("UTC", &[], &["2026-13-01"]).contains("`2026-13-01` is not a date"));
        assert!(err("UTC", &[], &["Mon 08:00 - Mon 08:00"]).contains("same time"));
        assert!(err("UTC", &[], &["Mon 08:00-08:00"]).contains("same time"));
        assert!(err("UTC", &[], &[""]).contains("empty"));
        assert!(err("UTC", &[], &["Mon-Fri"]).contains("expected"));
        assert!(err("UTC", &[], &["Mon 08:00 -"]).contains("expected"));
        assert!(err("UTC", &[], &["Mon 8-9"]).contains("`8` is not a time"));
        assert!(err("UTC", &[], &["Mon 24:00 - Tue 01:00"]).contains("`24:00` is not a time"));
    }
}

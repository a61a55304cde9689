//! `on.schedule[].cron`: GitHub's POSIX cron expressions.
//!
//! A schedule is five fields separated by spaces, read in UTC:
//!
//! | Field        | Values               |
//! |--------------|----------------------|
//! | minute       | `0`-`59`             |
//! | hour         | `0`-`23`             |
//! | day of month | `1`-`31`             |
//! | month        | `1`-`12` or `JAN`-`DEC` |
//! | day of week  | `0`-`6` or `SUN`-`SAT` (`0` is Sunday) |
//!
//! Each field is `*` or a comma-separated list of values and ranges
//! (`1-5`); any item may carry a step (`*/15`, `0-30/10`). A step after a
//! single value runs to the end of the field's range: GitHub's own example
//! `20/15` in the minute field means minutes 20, 35 and 50. Month and weekday
//! names are three letters, in any case.
//!
//! What GitHub rejects, and so does [`parse`]: anything but five fields, the
//! nicknames `@daily`, `@hourly` and friends, values out of range —
//! including `7` for Sunday, which many crons accept but GitHub reports as an
//! invalid cron attribute — ranges that run backwards, a step of `0`, and the
//! non-POSIX `?`, `L`, `W` and `#`. Errors carry the byte range of the
//! offending part so a caller can underline it.
//!
//! When both the day of month and the day of week are restricted, a day
//! matches if **either** does (`0 0 1 * MON` runs on the 1st and on every
//! Monday). As in Vixie cron, a field that starts with `*` (`*`, `*/2`)
//! counts as unrestricted for this rule, and then both must match.
//!
//! GitHub runs schedules at most once every [`GITHUB_MIN_INTERVAL_MINUTES`]
//! minutes; a more frequent schedule is valid syntax, and
//! [`Schedule::min_interval_minutes`] lets a linter warn about it.

use std::fmt;
use std::ops::Range;

/// The shortest interval GitHub runs scheduled workflows at.
pub const GITHUB_MIN_INTERVAL_MINUTES: u32 = 5;

/// One of the five fields of a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `0`-`59`.
    Minute,
    /// `0`-`23`.
    Hour,
    /// `1`-`31`.
    DayOfMonth,
    /// `1`-`12` or `JAN`-`DEC`.
    Month,
    /// `0`-`6` or `SUN`-`SAT`.
    DayOfWeek,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

impl Field {
    /// The fields in the order they are written.
    pub const ALL: [Field; 5] = [
        Field::Minute,
        Field::Hour,
        Field::DayOfMonth,
        Field::Month,
        Field::DayOfWeek,
    ];

    /// The field's name as used in messages: `minute`, `day-of-week`, ...
    pub fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    /// The smallest value of the field.
    pub fn min(self) -> u8 {
        match self {
            Field::Minute | Field::Hour | Field::DayOfWeek => 0,
            Field::DayOfMonth | Field::Month => 1,
        }
    }

    /// The largest value of the field.
    pub fn max(self) -> u8 {
        match self {
            Field::Minute => 59,
            Field::Hour => 23,
            Field::DayOfMonth => 31,
            Field::Month => 12,
            Field::DayOfWeek => 6,
        }
    }

    fn index(self) -> usize {
        match self {
            Field::Minute => 0,
            Field::Hour => 1,
            Field::DayOfMonth => 2,
            Field::Month => 3,
            Field::DayOfWeek => 4,
        }
    }

    /// What the field accepts, for messages.
    fn expected(self) -> &'static str {
        match self {
            Field::Minute => "a number 0-59",
            Field::Hour => "a number 0-23",
            Field::DayOfMonth => "a number 1-31",
            Field::Month => "a number 1-12 or JAN-DEC",
            Field::DayOfWeek => "a number 0-6 or SUN-SAT",
        }
    }

    /// The three-letter names the field accepts, the first standing for
    /// [`Field::min`].
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTHS,
            Field::DayOfWeek => &WEEKDAYS,
            _ => &[],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn out_of_range_hint(field: Field, value: u64) -> &'static str {
    if field == Field::DayOfWeek && value == 7 {
        " (use 0 for Sunday)"
    } else {
        ""
    }
}

fn invalid_value_hint(text: &str) -> &'static str {
    if text.contains(['?', '#']) || text.eq_ignore_ascii_case("L") || text.ends_with(['L', 'W']) {
        " (`?`, `L`, `W` and `#` are not part of POSIX cron)"
    } else {
        ""
    }
}

/// Why a cron expression is invalid. Every variant carries the byte range,
/// within the expression, of the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CronError {
    /// Not five fields.
    #[error("expected 5 fields (minute hour day-of-month month day-of-week), found {found}")]
    FieldCount {
        /// How many fields there are.
        found: usize,
        /// The fields beyond the fifth, or the whole expression when there
        /// are too few.
        span: Range<usize>,
    },
    /// `@daily` and the like.
    #[error(
        "`{text}` is not supported; GitHub only accepts five-field schedules such as `0 0 * * *`"
    )]
    Nickname {
        /// The nickname as written.
        text: String,
        /// Where it is.
        span: Range<usize>,
    },
    /// A number outside the field's range.
    #[error(
        "{field} value {value} is out of range {}-{}{}",
        field.min(),
        field.max(),
        out_of_range_hint(*field, *value)
    )]
    OutOfRange {
        /// The field.
        field: Field,
        /// The number (saturated at `u64::MAX`).
        value: u64,
        /// Where it is.
        span: Range<usize>,
    },
    /// Something that is neither a number nor a name the field accepts.
    #[error("invalid {field} value `{text}`; expected {}{}", field.expected(), invalid_value_hint(text))]
    InvalidValue {
        /// The field.
        field: Field,
        /// The value as written.
        text: String,
        /// Where it is.
        span: Range<usize>,
    },
    /// A range whose start is after its end.
    #[error("{field} range `{text}` runs backwards")]
    ReversedRange {
        /// The field.
        field: Field,
        /// The range as written.
        text: String,
        /// Where it is.
        span: Range<usize>,
    },
    /// A step that is not a whole number of at least 1.
    #[error(
        "invalid step `{text}` in the {field} field; a step must be a whole number of at least 1"
    )]
    InvalidStep {
        /// The field.
        field: Field,
        /// The step as written (after the `/`).
        text: String,
        /// Where it is.
        span: Range<usize>,
    },
    /// An empty item in a list, as in `1,,2` or `5,`.
    #[error("empty entry in the {field} list")]
    EmptyEntry {
        /// The field.
        field: Field,
        /// Where the empty entry is (an empty range at its position).
        span: Range<usize>,
    },
}

impl CronError {
    /// The byte range, within the expression, of the part at fault.
    pub fn span(&self) -> Range<usize> {
        match self {
            CronError::FieldCount { span, .. }
            | CronError::Nickname { span, .. }
            | CronError::OutOfRange { span, .. }
            | CronError::InvalidValue { span, .. }
            | CronError::ReversedRange { span, .. }
            | CronError::InvalidStep { span, .. }
            | CronError::EmptyEntry { span, .. } => span.clone(),
        }
    }
}

/// A parsed schedule: the set of values each field allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    source: String,
    /// Bit `n` of `sets[field.index()]` is set when value `n` is allowed.
    sets: [u64; 5],
    /// Whether the day-of-month field starts with `*`.
    dom_star: bool,
    /// Whether the day-of-week field starts with `*`.
    dow_star: bool,
}

/// Splits `text` into whitespace-separated words with their byte ranges.
fn words(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_ascii_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s..i, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s..text.len(), &text[s..]));
    }
    out
}

/// Parses a cron expression as GitHub does (see the
/// [module documentation](self)).
pub fn parse(expr: &str) -> Result<Schedule, CronError> {
    let fields = words(expr);
    if let Some((span, text)) = fields.first()
        && text.starts_with('@')
    {
        return Err(CronError::Nickname {
            text: (*text).to_string(),
            span: span.clone(),
        });
    }
    if fields.len() != 5 {
        let span = match (fields.first(), fields.get(5), fields.last()) {
            (_, Some((extra, _)), Some((last, _))) => extra.start..last.end,
            (Some((first, _)), None, Some((last, _))) => first.start..last.end,
            _ => 0..expr.len(),
        };
        return Err(CronError::FieldCount {
            found: fields.len(),
            span,
        });
    }
    let mut sets = [0u64; 5];
    for (field, (span, text)) in Field::ALL.into_iter().zip(&fields) {
        sets[field.index()] = parse_field(field, text, span.start)?;
    }
    let starts_with_star = |i: usize| fields.get(i).is_some_and(|(_, t)| t.starts_with('*'));
    Ok(Schedule {
        source: expr.to_string(),
        sets,
        dom_star: starts_with_star(2),
        dow_star: starts_with_star(4),
    })
}

/// Parses one field; `offset` is the byte offset of `text` in the expression.
fn parse_field(field: Field, text: &str, offset: usize) -> Result<u64, CronError> {
    let mut set = 0u64;
    let mut item_start = 0;
    for item in text.split(',') {
        let at = offset + item_start;
        item_start += item.len() + 1;
        if item.is_empty() {
            return Err(CronError::EmptyEntry {
                field,
                span: at..at,
            });
        }
        set |= parse_item(field, item, at)?;
    }
    Ok(set)
}

/// Parses `*`, `n`, `a-b`, each optionally followed by `/step`.
fn parse_item(field: Field, item: &str, at: usize) -> Result<u64, CronError> {
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => {
            let step_at = at + base.len() + 1;
            let span = step_at..step_at + step.len();
            let invalid = || CronError::InvalidStep {
                field,
                text: step.to_string(),
                span: span.clone(),
            };
            if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            match saturating_number(step) {
                0 => return Err(invalid()),
                n => (base, Some(n)),
            }
        }
        None => (item, None),
    };
    let base_span = at..at + base.len();
    let (lo, hi) = if base == "*" {
        (field.min(), field.max())
    } else if let Some((a, b)) = base.split_once('-') {
        if a.is_empty() || b.is_empty() {
            return Err(CronError::InvalidValue {
                field,
                text: base.to_string(),
                span: base_span,
            });
        }
        let lo = parse_value(field, a, at)?;
        let hi = parse_value(field, b, at + a.len() + 1)?;
        if lo > hi {
            return Err(CronError::ReversedRange {
                field,
                text: base.to_string(),
                span: base_span,
            });
        }
        (lo, hi)
    } else {
        let value = parse_value(field, base, at)?;
        // `n/step` runs from n to the end of the field's range.
        (value, if step.is_some() { field.max() } else { value })
    };
    let step = step.unwrap_or(1);
    let mut set = 0u64;
    let mut v = u64::from(lo);
    while v <= u64::from(hi) {
        set |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok(set)
}

/// Parses a run of ASCII digits, saturating instead of overflowing.
fn saturating_number(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

/// Parses a number or a name; `at` is its byte offset in the expression.
fn parse_value(field: Field, text: &str, at: usize) -> Result<u8, CronError> {
    let span = at..at + text.len();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let value = saturating_number(text);
        return match u8::try_from(value) {
            Ok(v) if (field.min()..=field.max()).contains(&v) => Ok(v),
            _ => Err(CronError::OutOfRange { field, value, span }),
        };
    }
    field
        .names()
        .iter()
        .zip(field.min()..)
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, value)| value)
        .ok_or_else(|| CronError::InvalidValue {
            field,
            text: text.to_string(),
            span,
        })
}

/// A minute in UTC, the resolution schedules work at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl DateTime {
    /// A date and time, or `None` if it does not exist (month 13, April 31,
    /// February 29 of a common year, hour 24, ...).
    pub fn new(year: i32, month: u8, day: u8, hour: u8, minute: u8) -> Option<Self> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60;
        valid.then_some(DateTime {
            year,
            month,
            day,
            hour,
            minute,
        })
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1-12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1-31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The hour, 0-23.
    pub fn hour(&self) -> u8 {
        self.hour
    }

    /// The minute, 0-59.
    pub fn minute(&self) -> u8 {
        self.minute
    }

    /// The day of the week, 0 (Sunday) to 6 (Saturday).
    pub fn weekday(&self) -> u8 {
        // 1970-01-01 was a Thursday.
        let w = (days_from_civil(self.year, self.month, self.day) + 4).rem_euclid(7);
        u8::try_from(w).unwrap_or(0)
    }

    /// The first minute of the next day.
    fn next_day(self) -> Self {
        let (year, month, day) = if self.day < days_in_month(self.year, self.month) {
            (self.year, self.month, self.day + 1)
        } else if self.month < 12 {
            (self.year, self.month + 1, 1)
        } else {
            (self.year.saturating_add(1), 1, 1)
        };
        DateTime {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
        }
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }
}

/// One Gregorian cycle: every calendar pattern repeats within it.
const DAYS_IN_400_YEARS: u32 = 146_097;

impl Schedule {
    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `value` is allowed in `field`.
    pub fn allows(&self, field: Field, value: u8) -> bool {
        value < 64 && self.sets[field.index()] & (1 << value) != 0
    }

    /// The values `field` allows, ascending.
    pub fn values(&self, field: Field) -> Vec<u8> {
        (field.min()..=field.max())
            .filter(|&v| self.allows(field, v))
            .collect()
    }

    /// Whether the schedule runs at all on the given day: the month must be
    /// allowed, then the day-of-month/day-of-week rule applies (either one
    /// when both fields are restricted, both otherwise).
    fn day_matches(&self, day: u8, month: u8, weekday: u8) -> bool {
        if !self.allows(Field::Month, month) {
            return false;
        }
        let dom = self.allows(Field::DayOfMonth, day);
        let dow = self.allows(Field::DayOfWeek, weekday);
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// Whether the schedule fires at the given minute. `weekday` is 0
    /// (Sunday) to 6; when both the day of month and the day of week are
    /// restricted, either one matching is enough.
    pub fn matches(&self, minute: u8, hour: u8, day: u8, month: u8, weekday: u8) -> bool {
        self.allows(Field::Minute, minute)
            && self.allows(Field::Hour, hour)
            && self.day_matches(day, month, weekday)
    }

    /// Whether the schedule fires at `t`.
    pub fn matches_at(&self, t: DateTime) -> bool {
        self.matches(t.minute, t.hour, t.day, t.month, t.weekday())
    }

    /// The first minute on the same day, at or after `from` (minutes since
    /// midnight), that the minute and hour fields allow.
    fn first_time_from(&self, from: u16) -> Option<(u8, u8)> {
        (0..24u8)
            .filter(|&h| self.allows(Field::Hour, h))
            .flat_map(|h| (0..60u8).map(move |m| (h, m)))
            .find(|&(h, m)| {
                u16::from(h) * 60 + u16::from(m) >= from && self.allows(Field::Minute, m)
            })
    }

    /// The first time strictly after `t` at which the schedule fires, or
    /// `None` if it never does (`0 0 30 2 *`).
    pub fn next_after(&self, t: DateTime) -> Option<DateTime> {
        let mut day = t;
        let mut from = u16::from(t.hour) * 60 + u16::from(t.minute) + 1;
        for _ in 0..=DAYS_IN_400_YEARS {
            if self.day_matches(day.day, day.month, day.weekday())
                && let Some((hour, minute)) = self.first_time_from(from)
            {
                return Some(DateTime {
                    hour,
                    minute,
                    ..day
                });
            }
            day = day.next_day();
            from = 0;
        }
        None
    }

    /// The shortest gap, in minutes, between two consecutive times of day
    /// the schedule fires at, counting the wrap from the last time of one day
    /// to the first of the next (1440 for once a day). Skipped days only make
    /// real gaps longer, so this is what to compare with
    /// [`GITHUB_MIN_INTERVAL_MINUTES`].
    pub fn min_interval_minutes(&self) -> u32 {
        let times: Vec<u32> = self
            .values(Field::Hour)
            .into_iter()
            .flat_map(|h| {
                self.values(Field::Minute)
                    .into_iter()
                    .map(move |m| u32::from(h) * 60 + u32::from(m))
            })
            .collect();
        let (Some(first), Some(last)) = (times.first(), times.last()) else {
            return 1440;
        };
        let wrap = first + 1440 - last;
        times
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => Some(b - a),
                _ => None,
            })
            .fold(wrap, u32::min)
    }

    /// A short English description: `at 05:30 and 17:30 UTC, every day`,
    /// `every 15 minutes, on Monday through Friday`.
    pub fn describe(&self) -> String {
        let time = self.describe_time();
        let days = self.describe_days();
        format!("{time}, {days}")
    }

    fn is_full(&self, field: Field) -> bool {
        (field.min()..=field.max()).all(|v| self.allows(field, v))
    }

    fn describe_time(&self) -> String {
        let minutes = self.values(Field::Minute);
        let hours = self.values(Field::Hour);
        let every_hour = self.is_full(Field::Hour);
        if every_hour {
            if self.is_full(Field::Minute) {
                return "every minute".to_string();
            }
            if let Some((start, step)) = progression_to_end(&minutes, 59) {
                return if start == 0 {
                    format!("every {step} minutes")
                } else {
                    format!("every {step} minutes from minute {start}")
                };
            }
            return match minutes.as_slice() {
                [m] => format!("at minute {m} of every hour"),
                _ => format!(
                    "at minutes {} of every hour",
                    list(&minutes, &|v| v.to_string())
                ),
            };
        }
        if minutes.len() * hours.len() <= 6 {
            let times: Vec<String> = hours
                .iter()
                .flat_map(|h| minutes.iter().map(move |m| format!("{h:02}:{m:02}")))
                .collect();
            return format!("at {} UTC", join_and(&times));
        }
        let hour_text = list(&hours, &|v| v.to_string());
        if self.is_full(Field::Minute) {
            format!("every minute of hours {hour_text} UTC")
        } else {
            let minute_text = list(&minutes, &|v| v.to_string());
            format!("at minutes {minute_text} of hours {hour_text} UTC")
        }
    }

    fn describe_days(&self) -> String {
        let dom_all = self.is_full(Field::DayOfMonth);
        let dow_all = self.is_full(Field::DayOfWeek);
        let dom = || {
            let days = self.values(Field::DayOfMonth);
            let noun = if days.len() == 1 { "day" } else { "days" };
            format!("on {noun} {} of the month", list(&days, &|v| v.to_string()))
        };
        let dow = || {
            let days = self.values(Field::DayOfWeek);
            format!("on {}", list(&days, &|v| weekday_name(v).to_string()))
        };
        let mut text = match (dom_all, dow_all) {
            (true, true) => "every day".to_string(),
            (false, true) => dom(),
            (true, false) => dow(),
            (false, false) if self.dom_star || self.dow_star => {
                format!("{}, if that is {}", dom(), dow().trim_start_matches("on "))
            }
            (false, false) => format!("{} or {}", dom(), dow()),
        };
        if !self.is_full(Field::Month) {
            let months = self.values(Field::Month);
            text.push_str(" in ");
            text.push_str(&list(&months, &|v| month_name(v).to_string()));
        }
        text
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Schedule {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

fn weekday_name(v: u8) -> &'static str {
    WEEKDAY_NAMES.get(usize::from(v)).copied().unwrap_or("?")
}

fn month_name(v: u8) -> &'static str {
    MONTH_NAMES
        .get(usize::from(v).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

/// `Some((start, step))` when `values` is `start, start+step, ...` up to the
/// last value not above `max`, with `step > 1` and `start < step`.
fn progression_to_end(values: &[u8], max: u8) -> Option<(u8, u8)> {
    let (&start, &second) = (values.first()?, values.get(1)?);
    let step = second - start;
    let regular = values
        .windows(2)
        .all(|w| matches!(w, [a, b] if b - a == step));
    let last = *values.last()?;
    (step > 1 && start < step && regular && u16::from(last) + u16::from(step) > u16::from(max))
        .then_some((start, step))
}

/// Renders ascending values, folding runs of three or more into
/// `a through b`: `1 through 5 and 7`.
fn list(values: &[u8], name: &dyn Fn(u8) -> String) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&start) = values.get(i) {
        let mut j = i;
        while values
            .get(j + 1)
            .is_some_and(|&n| Some(n) == values.get(j).map(|v| v + 1))
        {
            j += 1;
        }
        if j - i >= 2 {
            let end = values.get(j).copied().unwrap_or(start);
            parts.push(format!("{} through {}", name(start), name(end)));
        } else {
            parts.extend(values[i..=j].iter().map(|&v| name(v)));
        }
        i = j + 1;
    }
    join_and(&parts)
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ok(expr: &str) -> Schedule {
        parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    #[track_caller]
    fn err(expr: &str) -> CronError {
        match parse(expr) {
            Ok(_) => panic!("`{expr}` should be invalid"),
            Err(e) => e,
        }
    }

    fn at(y: i32, mo: u8, d: u8, h: u8, mi: u8) -> DateTime {
        DateTime::new(y, mo, d, h, mi).unwrap()
    }

    #[test]
    fn docs_examples_parse() {
        let s = ok("30 5,17 * * *");
        assert_eq!(s.values(Field::Minute), vec![30]);
        assert_eq!(s.values(Field::Hour), vec![5, 17]);
        assert_eq!(s.values(Field::DayOfMonth).len(), 31);
        let s = ok("30 5 * * 1,3");
        assert_eq!(s.values(Field::DayOfWeek), vec![1, 3]);
        assert_eq!(ok("15 * * * *").values(Field::Minute), vec![15]);
        let s = ok("2,10 4,5 * * *");
        assert_eq!(s.values(Field::Minute), vec![2, 10]);
        assert_eq!(s.values(Field::Hour), vec![4, 5]);
        assert_eq!(ok("30 4-6 * * *").values(Field::Hour), vec![4, 5, 6]);
    }

    #[test]
    fn value_slash_step_runs_to_the_end() {
        // GitHub's documented example: 20/15 is minutes 20, 35 and 50.
        assert_eq!(ok("20/15 * * * *").values(Field::Minute), vec![20, 35, 50]);
    }

    #[test]
    fn steps() {
        assert_eq!(
            ok("*/15 * * * *").values(Field::Minute),
            vec![0, 15, 30, 45]
        );
        assert_eq!(ok("0 0-12/4 * * *").values(Field::Hour), vec![0, 4, 8, 12]);
        assert_eq!(
            ok("0 0 */10 * *").values(Field::DayOfMonth),
            vec![1, 11, 21, 31]
        );
        assert_eq!(ok("*/100 * * * *").values(Field::Minute), vec![0]);
        assert_eq!(ok("0 0 1 */3 *").values(Field::Month), vec![1, 4, 7, 10]);
    }

    #[test]
    fn names() {
        let s = ok("0 0 * jan-MAR mon-fri");
        assert_eq!(s.values(Field::Month), vec![1, 2, 3]);
        assert_eq!(s.values(Field::DayOfWeek), vec![1, 2, 3, 4, 5]);
        let s = ok("0 0 * * SUN-TUE,THU-SAT");
        assert_eq!(s.values(Field::DayOfWeek), vec![0, 1, 2, 4, 5, 6]);
        assert_eq!(ok("0 0 * DEC Sun").values(Field::Month), vec![12]);
    }

    #[test]
    fn whitespace() {
        let s = ok("  0\t12   * *  *  ");
        assert_eq!(s.values(Field::Hour), vec![12]);
        assert_eq!(s.as_str(), "  0\t12   * *  *  ");
    }

    #[test]
    fn field_count_errors() {
        let e = err("0 0 * * * *");
        assert_eq!(
            e.to_string(),
            "expected 5 fields (minute hour day-of-month month day-of-week), found 6"
        );
        assert_eq!(e.span(), 10..11);
        let e = err("0 0 * * * 2024 x");
        assert_eq!(
            e,
            CronError::FieldCount {
                found: 7,
                span: 10..16
            }
        );
        let e = err(" 0 0 *");
        assert_eq!(
            e,
            CronError::FieldCount {
                found: 3,
                span: 1..6
            }
        );
        assert_eq!(
            err(""),
            CronError::FieldCount {
                found: 0,
                span: 0..0
            }
        );
        assert_eq!(
            err("   "),
            CronError::FieldCount {
                found: 0,
                span: 0..3
            }
        );
    }

    #[test]
    fn nicknames_are_rejected() {
        let e = err("@daily");
        assert_eq!(
            e.to_string(),
            "`@daily` is not supported; GitHub only accepts five-field schedules such as `0 0 * * *`"
        );
        assert_eq!(e.span(), 0..6);
        assert!(matches!(err("  @hourly"), CronError::Nickname { span, .. } if span == (2..9)));
    }

    #[test]
    fn out_of_range() {
        let e = err("61 * * * *");
        assert_eq!(e.to_string(), "minute value 61 is out of range 0-59");
        assert_eq!(e.span(), 0..2);
        let e = err("0 24 * * *");
        assert_eq!(e.to_string(), "hour value 24 is out of range 0-23");
        assert_eq!(e.span(), 2..4);
        assert_eq!(
            err("0 0 0 * *").to_string(),
            "day-of-month value 0 is out of range 1-31"
        );
        assert_eq!(
            err("0 0 32 * *").to_string(),
            "day-of-month value 32 is out of range 1-31"
        );
        assert_eq!(
            err("0 0 * 13 *").to_string(),
            "month value 13 is out of range 1-12"
        );
        assert_eq!(
            err("0 0 * 0 *").to_string(),
            "month value 0 is out of range 1-12"
        );
        let e = err("0 6 * * 7");
        assert_eq!(
            e.to_string(),
            "day-of-week value 7 is out of range 0-6 (use 0 for Sunday)"
        );
        assert_eq!(e.span(), 8..9);
        let e = err("0 6 * * 1-7");
        assert_eq!(e.span(), 10..11);
        let e = err("99999999999999999999999 * * * *");
        assert!(
            matches!(
                e,
                CronError::OutOfRange {
                    value: u64::MAX,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn invalid_values() {
        let e = err("0 0 * * FOO");
        assert_eq!(
            e.to_string(),
            "invalid day-of-week value `FOO`; expected a number 0-6 or SUN-SAT"
        );
        assert_eq!(e.span(), 8..11);
        assert_eq!(
            err("0 0 * * MONDAY").to_string(),
            "invalid day-of-week value `MONDAY`; expected a number 0-6 or SUN-SAT"
        );
        assert_eq!(
            err("0 0 ? * *").to_string(),
            "invalid day-of-month value `?`; expected a number 1-31 (`?`, `L`, `W` and `#` are not part of POSIX cron)"
        );
        assert!(matches!(err("0 0 L * *"), CronError::InvalidValue { .. }));
        assert!(matches!(err("0 0 15W * *"), CronError::InvalidValue { .. }));
        assert!(matches!(err("0 0 * * 5#3"), CronError::InvalidValue { .. }));
        // Names only where they belong.
        assert!(matches!(err("0 0 * * JAN"), CronError::InvalidValue { .. }));
        assert!(matches!(err("MON 0 * * *"), CronError::InvalidValue { .. }));
        let e = err("-1 * * * *");
        assert_eq!(
            e,
            CronError::InvalidValue {
                field: Field::Minute,
                text: "-1".into(),
                span: 0..2
            }
        );
        let e = err("1- * * * *");
        assert_eq!(e.span(), 0..2);
        let e = err("*-5 * * * *");
        assert_eq!(e.span(), 0..1);
        assert!(matches!(
            err("1-2-3 * * * *"),
            CronError::InvalidValue { .. }
        ));
        assert!(matches!(err("０ * * * *"), CronError::InvalidValue { .. }));
    }

    #[test]
    fn reversed_ranges() {
        let e = err("0 20-5 * * *");
        assert_eq!(e.to_string(), "hour range `20-5` runs backwards");
        assert_eq!(e.span(), 2..6);
        assert!(matches!(
            err("0 0 * * FRI-MON"),
            CronError::ReversedRange { .. }
        ));
    }

    #[test]
    fn steps_errors() {
        let e = err("*/0 * * * *");
        assert_eq!(
            e.to_string(),
            "invalid step `0` in the minute field; a step must be a whole number of at least 1"
        );
        assert_eq!(e.span(), 2..3);
        assert!(matches!(err("*/ * * * *"), CronError::InvalidStep { span, .. } if span == (2..2)));
        assert!(matches!(err("*/x * * * *"), CronError::InvalidStep { .. }));
        assert!(matches!(
            err("*/1/2 * * * *"),
            CronError::InvalidStep { .. }
        ));
    }

    #[test]
    fn empty_entries() {
        let e = err("1,,2 * * * *");
        assert_eq!(e.to_string(), "empty entry in the minute list");
        assert_eq!(e.span(), 2..2);
        assert_eq!(err("0 5, * * *").span(), 4..4);
        assert_eq!(err("0 ,5 * * *").span(), 2..2);
    }

    #[test]
    fn spans_are_bytes_in_the_original() {
        let expr = "0 0 * * 8";
        let e = err(expr);
        assert_eq!(&expr[e.span()], "8");
        let expr = "0  0   1,40 * *";
        let e = err(expr);
        assert_eq!(&expr[e.span()], "40");
    }

    #[test]
    fn dom_dow_or_semantics() {
        // 1st of the month OR Monday.
        let s = ok("0 0 1 * MON");
        assert!(s.matches(0, 0, 1, 5, 3)); // the 1st, a Wednesday
        assert!(s.matches(0, 0, 6, 5, 1)); // a Monday, the 6th
        assert!(!s.matches(0, 0, 7, 5, 2));
        // `*` in either field: both must match (trivially for `*`).
        let s = ok("0 0 * * MON");
        assert!(s.matches(0, 0, 6, 5, 1));
        assert!(!s.matches(0, 0, 1, 5, 3));
        // A field starting with `*` counts as unrestricted: AND.
        let s = ok("0 0 */2 * MON");
        assert!(s.matches(0, 0, 3, 5, 1));
        assert!(!s.matches(0, 0, 4, 5, 1));
        assert!(!s.matches(0, 0, 3, 5, 2));
        // Month always applies.
        let s = ok("0 0 1 JAN MON");
        assert!(!s.matches(0, 0, 1, 2, 1));
    }

    #[test]
    fn matches_time_fields() {
        let s = ok("30 5,17 * * *");
        assert!(s.matches(30, 5, 10, 6, 0));
        assert!(s.matches(30, 17, 10, 6, 0));
        assert!(!s.matches(31, 5, 10, 6, 0));
        assert!(!s.matches(30, 6, 10, 6, 0));
        assert!(!s.allows(Field::Minute, 200));
    }

    #[test]
    fn weekdays() {
        assert_eq!(at(1970, 1, 1, 0, 0).weekday(), 4);
        assert_eq!(at(2000, 2, 29, 0, 0).weekday(), 2);
        assert_eq!(at(2024, 1, 1, 0, 0).weekday(), 1);
        assert_eq!(at(2025, 12, 25, 0, 0).weekday(), 4);
        assert_eq!(at(1900, 1, 1, 0, 0).weekday(), 1);
        assert!(DateTime::new(2023, 2, 29, 0, 0).is_none());
        assert!(DateTime::new(2024, 4, 31, 0, 0).is_none());
        assert!(DateTime::new(2024, 1, 1, 24, 0).is_none());
        assert!(DateTime::new(2024, 0, 1, 0, 0).is_none());
    }

    #[test]
    fn next_after() {
        let s = ok("30 5,17 * * *");
        assert_eq!(
            s.next_after(at(2024, 3, 10, 0, 0)),
            Some(at(2024, 3, 10, 5, 30))
        );
        assert_eq!(
            s.next_after(at(2024, 3, 10, 5, 30)),
            Some(at(2024, 3, 10, 17, 30))
        );
        assert_eq!(
            s.next_after(at(2024, 12, 31, 18, 0)),
            Some(at(2025, 1, 1, 5, 30))
        );
        // Monday and Wednesday at 05:30; 2024-03-10 is a Sunday.
        let s = ok("30 5 * * 1,3");
        assert_eq!(
            s.next_after(at(2024, 3, 10, 12, 0)),
            Some(at(2024, 3, 11, 5, 30))
        );
        assert_eq!(
            s.next_after(at(2024, 3, 11, 5, 30)),
            Some(at(2024, 3, 13, 5, 30))
        );
        // Leap day.
        let s = ok("0 0 29 2 *");
        assert_eq!(
            s.next_after(at(2024, 3, 1, 0, 0)),
            Some(at(2028, 2, 29, 0, 0))
        );
        // Leap day that is also a Monday under AND semantics is rare but exists.
        let s = ok("0 0 29 2 *");
        assert!(s.matches_at(at(2028, 2, 29, 0, 0)));
        // Never.
        assert_eq!(ok("0 0 30 2 *").next_after(at(2024, 1, 1, 0, 0)), None);
        assert_eq!(ok("0 0 31 4,6 *").next_after(at(2024, 1, 1, 0, 0)), None);
        // Every minute.
        assert_eq!(
            ok("* * * * *").next_after(at(2024, 1, 1, 23, 59)),
            Some(at(2024, 1, 2, 0, 0))
        );
    }

    #[test]
    fn next_after_is_consistent_with_matches() {
        for expr in [
            "*/7 3-5 * * *",
            "0 0 1,15 * FRI",
            "45 23 * FEB,AUG SUN",
            "0 12 */3 * *",
        ] {
            let s = ok(expr);
            let mut t = at(2023, 12, 30, 22, 0);
            for _ in 0..20 {
                let next = s.next_after(t).unwrap();
                assert!(next > t, "{expr}");
                assert!(s.matches_at(next), "{expr} at {next}");
                t = next;
            }
        }
    }

    #[test]
    fn min_interval() {
        assert_eq!(ok("* * * * *").min_interval_minutes(), 1);
        assert_eq!(ok("*/5 * * * *").min_interval_minutes(), 5);
        assert_eq!(ok("*/15 * * * *").min_interval_minutes(), 15);
        assert_eq!(ok("0,3 * * * *").min_interval_minutes(), 3);
        assert_eq!(ok("30 5,17 * * *").min_interval_minutes(), 720);
        assert_eq!(ok("0 0 * * *").min_interval_minutes(), 1440);
        assert_eq!(ok("50 23 * * *").min_interval_minutes(), 1440);
        assert_eq!(ok("58 23 * * *").min_interval_minutes(), 1440);
        assert_eq!(ok("0,58 0,23 * * *").min_interval_minutes(), 2);
        assert!(ok("*/2 * * * *").min_interval_minutes() < GITHUB_MIN_INTERVAL_MINUTES);
    }

    #[test]
    fn describe() {
        assert_eq!(
            ok("30 5,17 * * *").describe(),
            "at 05:30 and 17:30 UTC, every day"
        );
        assert_eq!(ok("*/15 * * * *").describe(), "every 15 minutes, every day");
        assert_eq!(
            ok("5/15 * * * *").describe(),
            "every 15 minutes from minute 5, every day"
        );
        assert_eq!(
            ok("20/15 * * * *").describe(),
            "at minutes 20, 35 and 50 of every hour, every day"
        );
        assert_eq!(
            ok("15 * * * *").describe(),
            "at minute 15 of every hour, every day"
        );
        assert_eq!(ok("* * * * *").describe(), "every minute, every day");
        assert_eq!(
            ok("0 0 * * 1-5").describe(),
            "at 00:00 UTC, on Monday through Friday"
        );
        assert_eq!(
            ok("30 5 * * 1,3").describe(),
            "at 05:30 UTC, on Monday and Wednesday"
        );
        assert_eq!(
            ok("0 9 1 * MON").describe(),
            "at 09:00 UTC, on day 1 of the month or on Monday"
        );
        assert_eq!(
            ok("0 0 1,15 JAN,JUL *").describe(),
            "at 00:00 UTC, on days 1 and 15 of the month in January and July"
        );
        assert_eq!(
            ok("0 */6 * * *").describe(),
            "at 00:00, 06:00, 12:00 and 18:00 UTC, every day"
        );
        assert_eq!(
            ok("0,30 9-17 * * MON-FRI").describe(),
            "at minutes 0 and 30 of hours 9 through 17 UTC, on Monday through Friday"
        );
        assert_eq!(
            ok("0 0 */2 * SUN").describe(),
            "at 00:00 UTC, on days 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29 and 31 of the month, if that is Sunday"
        );
    }

    #[test]
    fn display_and_from_str() {
        let s: Schedule = "0 0 * * *".parse().unwrap();
        assert_eq!(s.to_string(), "0 0 * * *");
        assert_eq!(at(2024, 3, 1, 7, 5).to_string(), "2024-03-01 07:05 UTC");
    }
}

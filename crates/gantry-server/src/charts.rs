//! Inline SVG for the dashboard: a week-by-week bar chart and a traffic
//! split bar. Server-rendered, no script; every chart is an `img` with a
//! title and a description, and every bar has its own tooltip title.

use std::fmt::Write as _;

use gantry_store::Timestamp;

use crate::dashboard::esc;

/// One chart: a value (or nothing) per week.
pub(crate) struct WeekChart<'a> {
    /// Unique on the page: the SVG's title and description ids start with it.
    pub id: &'a str,
    pub title: &'a str,
    pub points: Vec<(Timestamp, Option<f64>)>,
    /// How a value is shown on the axis and in tooltips.
    pub format: fn(f64) -> String,
}

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// `2026-03-02`.
fn day(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

/// `03-02`: a week's label under the axis.
fn short_day(t: Timestamp) -> String {
    day(t).chars().skip(5).collect()
}

/// The week-by-week bar chart, with its axis and labels.
pub(crate) fn week_bars(chart: &WeekChart<'_>) -> String {
    let values: Vec<f64> = chart
        .points
        .iter()
        .filter_map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let top = if max > 0.0 { max } else { 1.0 };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = chart.points.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).max(1.0);
    let summary = match (chart.points.first(), chart.points.last()) {
        (Some((first, _)), Some((last, latest))) => format!(
            "{} weeks from {} to {}; {} of them with a value; highest {}; latest week {}.",
            chart.points.len(),
            day(*first),
            day(*last),
            values.len(),
            if values.is_empty() {
                "none".to_string()
            } else {
                (chart.format)(max)
            },
            latest.map_or_else(|| "no value".to_string(), chart.format)
        ),
        _ => "No weeks in the window.".to_string(),
    };
    let id = esc(chart.id);
    let mut out = format!(
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" preserveAspectRatio=\"xMinYMin meet\" data-chart=\"{id}\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(chart.title),
        esc(&summary)
    );
    // Grid lines and their values: 0, half and the top.
    for frac in [0.0, 0.5, 1.0] {
        let y = TOP + plot_h * (1.0 - frac);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&(chart.format)(top * frac))
        );
    }
    for (i, (start, value)) in chart.points.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        match value.filter(|v| v.is_finite()) {
            Some(v) => {
                let h = (v.max(0.0) / top * plot_h).max(if v > 0.0 { 1.0 } else { 0.0 });
                let _ = write!(
                    out,
                    "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" data-week=\"{}\" data-value=\"{v}\"><title>Week of {}: {}</title></rect>",
                    TOP + plot_h - h,
                    day(*start),
                    day(*start),
                    esc(&(chart.format)(v))
                );
            }
            None => {
                // No value that week: a hollow mark on the axis.
                let _ = write!(
                    out,
                    "<rect class=\"none\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"3\" data-week=\"{}\"><title>Week of {}: no value</title></rect>",
                    TOP + plot_h - 3.0,
                    day(*start),
                    day(*start)
                );
            }
        }
    }
    // Labels under the first, middle and last weeks.
    let count = chart.points.len();
    let mut labelled: Vec<usize> = vec![0, count / 2, count.saturating_sub(1)];
    labelled.dedup();
    for i in labelled {
        if let Some((start, _)) = chart.points.get(i) {
            let x = LEFT + slot * i as f64 + slot / 2.0;
            let _ = write!(
                out,
                "<text class=\"axis\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                HEIGHT - 8.0,
                short_day(*start)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The canary's and stable's shares of traffic as one bar.
pub(crate) fn traffic_split(canary_weight: u32) -> String {
    let canary = canary_weight.min(100);
    let stable = 100 - canary;
    format!(
        "<svg class=\"split\" role=\"img\" viewBox=\"0 0 100 12\" preserveAspectRatio=\"none\" width=\"120\" height=\"14\">\
         <title>canary {canary}%, stable {stable}%</title>\
         <rect class=\"stable\" x=\"0\" y=\"0\" width=\"100\" height=\"12\"/>\
         <rect class=\"canary\" x=\"0\" y=\"0\" width=\"{canary}\" height=\"12\"/></svg>"
    )
}

/// `40 s`, `12 min`, `3.5 h`, `2.1 d`: a duration on an axis.
pub(crate) fn short_duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3_600.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 86_400.0 {
        format!("{:.1} h", s / 3_600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}

/// `25 %`.
pub(crate) fn percent(rate: f64) -> String {
    format!("{:.0} %", rate * 100.0)
}

/// A count.
pub(crate) fn count(n: f64) -> String {
    if (n - n.round()).abs() < 1e-9 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_highest_week_and_name_the_empty_ones() {
        let week = 7 * 86_400_000;
        let chart = WeekChart {
            id: "c",
            title: "Deployments <per> week",
            points: vec![
                (Timestamp(0), Some(2.0)),
                (Timestamp(week), None),
                (Timestamp(2 * week), Some(4.0)),
            ],
            format: count,
        };
        let svg = week_bars(&chart);
        assert!(svg.contains("Deployments &lt;per&gt; week"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert_eq!(svg.matches("class=\"none\"").count(), 1);
        // The top bar fills the plot; the other is half as tall.
        let plot_h = HEIGHT - TOP - BOTTOM;
        assert!(svg.contains(&format!("height=\"{plot_h:.1}\" data-week=\"1970-01-15\"")));
        assert!(svg.contains(&format!(
            "height=\"{:.1}\" data-week=\"1970-01-01\"",
            plot_h / 2.0
        )));
        assert!(svg.contains("highest 4; latest week 4."));
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(short_duration(42.0), "42 s");
        assert_eq!(short_duration(720.0), "12 min");
        assert_eq!(short_duration(5_400.0), "1.5 h");
        assert_eq!(short_duration(3.0 * 86_400.0), "3.0 d");
        assert_eq!(percent(0.25), "25 %");
        assert_eq!(count(3.0), "3");
    }
}

//! `gantry cache`: inspect and prune the caches (and expired artifacts)
//! kept under `$GANTRY_HOME`.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use clap::{Args, Subcommand};
use gantry_store::{CacheEntry, CacheList, Home, PrunePolicy, PruneReport};

use super::CliError;
use super::runs::{open_at, open_existing, store_error, table};
use crate::Outcome;
use crate::cli::Format;

#[derive(Debug, Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List cache entries, most recently used first.
    List(ListArgs),
    /// Remove cache entries by size, age or key, and expired artifacts.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only entries whose key starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub key: Option<String>,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Evict least recently used entries until the caches fit in this size
    /// (`500M`, `5G`, `1.5GiB`; K, M, G, T are powers of 1024)
    /// [default: the cache limit, 10 GiB, when no other option is given].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Remove entries not used for this long (`7d`, `12h`, `2w`, `1d12h`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: Option<Duration>,

    /// Only entries whose key starts with this; alone, removes them all.
    #[arg(long, value_name = "PREFIX")]
    pub key: Option<String>,

    /// Show what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(home: &Home, args: CacheArgs) -> Result<Outcome, CliError> {
    match args.command {
        CacheCommand::List(list) => run_list(home, list),
        CacheCommand::Prune(prune) => run_prune(home, prune),
    }
}

fn run_list(home: &Home, args: ListArgs) -> Result<Outcome, CliError> {
    let list = match open_existing(home)? {
        Some(store) => store.cache_list(args.key.as_deref()).map_err(store_error)?,
        None => CacheList::new(Vec::new(), gantry_store::DEFAULT_CACHE_LIMIT),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&list.document()).map_err(std::io::Error::from)?;
            writeln!(out, "{text}")?;
        }
        Format::Human => {
            let entries = &list.caches;
            if entries.is_empty() {
                writeln!(out, "no caches")?;
            } else {
                out.write_all(list_human(entries).as_bytes())?;
                writeln!(
                    out,
                    "{} {}, {} of {}",
                    entries.len(),
                    if entries.len() == 1 {
                        "entry"
                    } else {
                        "entries"
                    },
                    format_bytes(list.total_stored_bytes),
                    format_bytes(list.limit_bytes)
                )?;
            }
        }
    }
    Ok(Outcome::Success)
}

fn list_human(entries: &[CacheEntry]) -> String {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            [
                e.key.clone(),
                e.version.chars().take(12).collect(),
                format_bytes(e.stored_size),
                e.files.to_string(),
                e.created_at.to_string(),
                e.last_used_at.to_string(),
            ]
        })
        .collect();
    table(
        &["KEY", "VERSION", "SIZE", "FILES", "CREATED", "LAST USED"],
        &rows,
    )
}

fn run_prune(home: &Home, args: PruneArgs) -> Result<Outcome, CliError> {
    let store = open_at(home)?;
    let nothing_chosen = args.max_size.is_none() && args.older_than.is_none() && args.key.is_none();
    let policy = PrunePolicy {
        max_total_bytes: if nothing_chosen {
            Some(store.options().cache_limit_bytes)
        } else {
            args.max_size
        },
        older_than: args.older_than,
        key_prefix: args.key,
        dry_run: args.dry_run,
    };
    let report = store.prune_caches(&policy).map_err(store_error)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&report.document()).map_err(std::io::Error::from)?;
            writeln!(out, "{text}")?;
        }
        Format::Human => out.write_all(prune_human(&report).as_bytes())?,
    }
    Ok(Outcome::Success)
}

fn prune_human(r: &PruneReport) -> String {
    let mut s = String::new();
    let verb = if r.dry_run { "would remove" } else { "removed" };
    for e in &r.removed {
        let _ = writeln!(
            s,
            "{verb} cache {} ({}, last used {})",
            e.key,
            format_bytes(e.stored_size),
            e.last_used_at
        );
    }
    for a in &r.expired_artifacts {
        let _ = writeln!(
            s,
            "{verb} artifact {} of run {} (expired {})",
            a.name, a.run, a.expires_at
        );
    }
    let removed_bytes: u64 = r.removed.iter().map(|e| e.stored_size).sum();
    let _ = writeln!(
        s,
        "{verb} {} {} ({}) and {} expired {}; {} {} on disk; {} {} left ({})",
        r.removed.len(),
        plural(r.removed.len(), "cache", "caches"),
        format_bytes(removed_bytes),
        r.expired_artifacts.len(),
        plural(r.expired_artifacts.len(), "artifact", "artifacts"),
        if r.dry_run { "would free" } else { "freed" },
        format_bytes(r.bytes_freed),
        r.remaining_entries,
        plural(
            usize::try_from(r.remaining_entries).unwrap_or(usize::MAX),
            "cache",
            "caches"
        ),
        format_bytes(r.remaining_bytes),
    );
    s
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// `0 B`, `512 B`, `1.5 KiB`, `12.3 MiB`, `10.0 GiB`.
pub(crate) fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Parses `1024`, `500K`, `5G`, `1.5GiB`, `100MB` (K, M, G, T and KiB…
/// are powers of 1024; KB, MB, GB, TB powers of 1000).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 500M or 5G"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => return Err(format!("unknown size unit `{other}` (use K, M, G or T)")),
    };
    let bytes = value * factor;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(bytes as u64)
}

/// Parses `30s`, `15m`, `12h`, `7d`, `2w` and sums like `1d12h`.
pub(crate) fn parse_age(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not an age such as 7d, 12h or 1d12h");
    let mut total = 0u64;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("5G"), Ok(5 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert!(parse_size("5X").is_err());
        assert!(parse_size("G").is_err());
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(10 * 1024 * 1024 * 1024), "10.0 GiB");
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("1d12h"), Ok(Duration::from_secs(36 * 3600)));
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_age("7").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("7y").is_err());
    }
}

//! The files a step writes to talk to the runner: `$GITHUB_OUTPUT`,
//! `$GITHUB_ENV`, `$GITHUB_STATE` (`name=value` lines or the multi-line
//! `name<<DELIMITER` form) and `$GITHUB_PATH` (one directory a line).

/// Why a command file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct FileCommandError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Reads `name=value` and `name<<DELIM` … `DELIM` entries, in order.
pub fn parse_key_values(file: &str, text: &str) -> Result<Vec<(String, String)>, FileCommandError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    let error = |line: usize, message: String| FileCommandError {
        file: file.to_string(),
        line: line + 1,
        message,
    };
    while let Some((i, line)) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let heredoc = line.find("<<");
        let equals = line.find('=');
        match (heredoc, equals) {
            (Some(h), e) if e.is_none_or(|e| h < e) => {
                let name = line[..h].to_string();
                let delimiter = &line[h + 2..];
                if name.is_empty() {
                    return Err(error(i, "an entry needs a name before `<<`".into()));
                }
                if delimiter.is_empty() {
                    return Err(error(i, format!("`{name}<<` needs a delimiter")));
                }
                let mut value: Vec<&str> = Vec::new();
                let mut closed = false;
                for (_, l) in lines.by_ref() {
                    let l = l.strip_suffix('\r').unwrap_or(l);
                    if l == delimiter {
                        closed = true;
                        break;
                    }
                    value.push(l);
                }
                if !closed {
                    return Err(error(
                        i,
                        format!("`{name}<<{delimiter}` is never closed by a `{delimiter}` line"),
                    ));
                }
                out.push((name, value.join("\n")));
            }
            (_, Some(e)) => {
                let name = &line[..e];
                if name.is_empty() {
                    return Err(error(i, "an entry needs a name before `=`".into()));
                }
                out.push((name.to_string(), line[e + 1..].to_string()));
            }
            _ => {
                return Err(error(
                    i,
                    format!("expected `name=value` or `name<<DELIMITER`, found `{line}`"),
                ));
            }
        }
    }
    Ok(out)
}

/// The directories of a `$GITHUB_PATH` file, in order.
pub fn parse_path(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_single_and_multi_line_entries() {
        let text = "a=1\nb=x=y\nnotes<<EOF\nline 1\nline 2\nEOF\n\nempty=\n";
        assert_eq!(
            parse_key_values("GITHUB_OUTPUT", text).unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x=y".into()),
                ("notes".into(), "line 1\nline 2".into()),
                ("empty".into(), String::new()),
            ]
        );
    }

    #[test]
    fn reports_unclosed_heredocs_with_their_line() {
        let err = parse_key_values("GITHUB_ENV", "a=1\nb<<END\nvalue\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("never closed"));
        assert!(parse_key_values("GITHUB_ENV", "garbage\n").is_err());
    }
}

//! Workflow commands: the `::name key=value::message` lines a step prints
//! to talk to the runner.

/// A parsed workflow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub properties: Vec<(String, String)>,
    pub message: String,
}

impl Command {
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Undoes the escaping of command data (`%25`, `%0D`, `%0A`).
fn unescape_data(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0d", "\r")
        .replace("%0A", "\n")
        .replace("%0a", "\n")
        .replace("%25", "%")
}

/// Undoes the escaping of property values (data escapes plus `%3A`, `%2C`).
fn unescape_property(s: &str) -> String {
    unescape_data(
        &s.replace("%3A", ":")
            .replace("%3a", ":")
            .replace("%2C", ",")
            .replace("%2c", ","),
    )
}

/// Parses a line as a workflow command, if it is one.
pub fn parse(line: &str) -> Option<Command> {
    let rest = line.trim_start().strip_prefix("::")?;
    let end = rest.find("::")?;
    let head = &rest[..end];
    let message = unescape_data(&rest[end + 2..]);
    let (name, props) = match head.split_once(' ') {
        Some((name, props)) => (name, props),
        None => (head, ""),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let properties = props
        .split(',')
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_string(), unescape_property(v)))
        })
        .collect();
    Some(Command {
        name: name.to_string(),
        properties,
        message,
    })
}

/// Tracks `::stop-commands::TOKEN` … `::TOKEN::` regions, where commands
/// are printed but not processed.
#[derive(Debug, Default)]
pub struct Stopper {
    token: Option<String>,
}

impl Stopper {
    /// Whether `line` should be processed as a command; consumes the
    /// stop/resume lines themselves.
    pub fn process(&mut self, line: &str) -> Option<Command> {
        if let Some(token) = &self.token {
            if line.trim() == format!("::{token}::") {
                self.token = None;
            }
            return None;
        }
        let command = parse(line)?;
        if command.name == "stop-commands" {
            if !command.message.is_empty() {
                self.token = Some(command.message);
            }
            return None;
        }
        Some(command)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_names_properties_and_escapes() {
        let c = parse("::error file=app.js,line=10,title=Bad%3A thing::Something%0Abroke").unwrap();
        assert_eq!(c.name, "error");
        assert_eq!(c.property("file"), Some("app.js"));
        assert_eq!(c.property("title"), Some("Bad: thing"));
        assert_eq!(c.message, "Something\nbroke");
        assert_eq!(parse("::add-mask::s3cret").unwrap().message, "s3cret");
        assert!(parse("not a command").is_none());
        assert!(parse(":: weird::x").is_none());
    }

    #[test]
    fn stop_commands_pauses_processing() {
        let mut s = Stopper::default();
        assert!(s.process("::stop-commands::pause-123").is_none());
        assert!(s.process("::error::not processed").is_none());
        assert!(s.process("::pause-123::").is_none());
        assert!(s.process("::error::processed").is_some());
    }
}

//! Deb822-style paragraphs (`Key: value`, continuation lines indented,
//! paragraphs separated by blank lines): the dpkg status file and Python
//! package metadata.

/// One paragraph: its first line (1-based) and fields in order. Field
/// names keep their case; continuation lines are joined with `\n`.
#[derive(Debug, Default)]
pub(crate) struct Paragraph {
    pub(crate) line: usize,
    pub(crate) fields: Vec<(String, String)>,
}

impl Paragraph {
    /// The first field called `key` (case-insensitive, as RFC 822).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.trim())
    }
}

/// Splits text into paragraphs. With `headers_only`, stops at the first
/// blank line (an email-style header block, then a body).
pub(crate) fn paragraphs(text: &str, headers_only: bool) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut current = Paragraph::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                out.push(std::mem::take(&mut current));
                if headers_only {
                    return out;
                }
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            if current.fields.is_empty() {
                current.line = i + 1;
            }
            current
                .fields
                .push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !current.fields.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paragraphs_with_continuations() {
        let p = paragraphs("Package: a\nDescription: x\n more\n\n\nPackage: b\n", false);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].get("package"), Some("a"));
        assert_eq!(p[0].get("Description"), Some("x\nmore"));
        assert_eq!(p[1].line, 6);
    }
}

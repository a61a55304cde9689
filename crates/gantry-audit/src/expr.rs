//! Looking inside `${{ }}` expressions: which context paths they read.

use gantry_expr::Expr;

/// An expression found in a string, with where it sits.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The whole `${{ ... }}` as written, for replacing it.
    pub written: String,
    /// The expression text inside the braces, trimmed.
    pub text: String,
    pub expr: Expr,
}

/// The `${{ }}` expressions of a string that parse.
pub(crate) fn expressions(s: &str) -> Vec<Found> {
    let Ok(template) = gantry_expr::parse_template(s) else {
        return Vec::new();
    };
    template
        .parsed_expressions()
        .filter_map(|e| {
            // Walk back from the expression text to its `${{` and forward to `}}`.
            let open = s.get(..e.offset)?.rfind("${{")?;
            let close = s.get(e.offset + e.text.len()..)?.find("}}")? + e.offset + e.text.len() + 2;
            Some(Found {
                written: s.get(open..close)?.to_string(),
                text: e.text.clone(),
                expr: e.expr.clone(),
            })
        })
        .collect()
}

/// Whether `path` matches `pattern`, where `*` in the pattern matches one
/// segment and a trailing `**` any rest.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = path.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some("**"), _) => return true,
            (Some(a), Some(b)) if a == "*" || a == b || b == "*" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_paths_and_their_place() {
        let s = "echo \"${{ github.event.issue.title }}\" ${{ github.event['pull_request'].head.ref || 'x' }}";
        let found = expressions(s);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].written, "${{ github.event.issue.title }}");
        assert_eq!(
            found[0].expr.context_paths(),
            vec!["github.event.issue.title"]
        );
        assert_eq!(
            found[1].expr.context_paths(),
            vec!["github.event.pull_request.head.ref"]
        );
        assert!(path_matches(
            "github.event.commits.*.message",
            "github.event.commits.*.message"
        ));
        assert!(path_matches(
            "github.event.pull_request.**",
            "github.event.pull_request.head.ref"
        ));
        assert!(!path_matches(
            "github.event.issue.title",
            "github.event.issue"
        ));
    }
}

//! Which contexts and functions an expression may use in a given place.
//!
//! GitHub allows different contexts in different places of a workflow (no
//! `secrets` in `jobs.<id>.if`, no `steps` at the workflow level, ...) and a
//! few extra functions in some places (`hashFiles`, and the status functions
//! `success`, `always`, `cancelled` and `failure` in conditions). Using
//! anything else is a parse error, exactly as on GitHub.
//!
//! The core functions (`contains`, `startsWith`, `endsWith`, `format`,
//! `join`, `toJSON`, `fromJSON` and `case`) are allowed everywhere. All names
//! are matched case-insensitively.

/// "No upper limit" for a function's argument count.
pub const MAX_ARGS: usize = usize::MAX;

/// The contexts GitHub Actions defines.
pub const KNOWN_CONTEXTS: &[&str] = &[
    "github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix",
    "needs", "inputs",
];

/// The status functions, which make GitHub skip the implicit `success() &&`
/// in front of an `if:` condition.
pub const STATUS_FUNCTIONS: &[&str] = &["success", "always", "cancelled", "failure"];

/// A function's name (canonical spelling) and how many arguments it takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionSignature {
    /// The name as GitHub spells it, e.g. `hashFiles`.
    pub name: String,
    /// The fewest arguments.
    pub min_args: usize,
    /// The most arguments ([`MAX_ARGS`] for no limit).
    pub max_args: usize,
}

impl FunctionSignature {
    fn new(name: &str, min_args: usize, max_args: usize) -> Self {
        Self {
            name: name.to_string(),
            min_args,
            max_args,
        }
    }
}

/// The functions available everywhere, with GitHub's argument counts.
const CORE_FUNCTIONS: &[(&str, usize, usize)] = &[
    ("case", 3, 255),
    ("contains", 2, 2),
    ("endsWith", 2, 2),
    ("format", 1, 255),
    ("fromJson", 1, 1),
    ("join", 1, 2),
    ("startsWith", 2, 2),
    ("toJson", 1, 1),
];

/// Argument counts for the extra functions when a caller names them without
/// giving counts. For the status functions these are the permissive
/// job-level counts (`success` and `failure` take job names there); steps
/// allow no arguments, which `"success(0,0)"` expresses.
const EXTRA_FUNCTIONS: &[(&str, usize, usize)] = &[
    ("always", 0, 0),
    ("cancelled", 0, 0),
    ("failure", 0, MAX_ARGS),
    ("hashFiles", 1, 255),
    ("success", 0, MAX_ARGS),
];

/// The named values (contexts) allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NamedValues {
    /// Every identifier is accepted; unknown ones evaluate to null.
    Any,
    /// Only these (lower-cased).
    Only(Vec<String>),
}

/// The contexts and extra functions an expression may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    named: NamedValues,
    functions: Vec<FunctionSignature>,
}

impl Default for Allowed {
    fn default() -> Self {
        Self::core_only()
    }
}

impl Allowed {
    /// Everything: any named value (unknown ones evaluate to null) and every
    /// extra function (`hashFiles` and the status functions). For `gantry
    /// eval` and for checking syntax without knowing the place.
    pub fn any() -> Self {
        Self {
            named: NamedValues::Any,
            functions: EXTRA_FUNCTIONS
                .iter()
                .map(|(n, min, max)| FunctionSignature::new(n, *min, *max))
                .collect(),
        }
    }

    /// No contexts and only the core functions.
    pub fn core_only() -> Self {
        Self {
            named: NamedValues::Only(Vec::new()),
            functions: Vec::new(),
        }
    }

    /// These contexts and these extra functions.
    ///
    /// A function is given by name (`"hashFiles"`, with GitHub's usual
    /// argument counts) or in the workflow schema's notation with counts
    /// (`"success(0,0)"`, `"failure(0,MAX)"`). Unknown names without counts
    /// accept any number of arguments.
    pub fn new(named_values: &[&str], functions: &[&str]) -> Self {
        let mut allowed = Self::core_only();
        for name in named_values {
            allowed = allowed.with_named_value(name);
        }
        for function in functions {
            allowed = allowed.with_function_spec(function);
        }
        allowed
    }

    /// A list in the workflow schema's `context` notation, which mixes
    /// contexts (`"github"`) and functions with counts (`"hashFiles(1,255)"`).
    pub fn from_context_list<S: AsRef<str>>(items: &[S]) -> Self {
        let mut allowed = Self::core_only();
        for item in items {
            let item = item.as_ref();
            allowed = if parse_function_spec(item).is_some() {
                allowed.with_function_spec(item)
            } else {
                allowed.with_named_value(item)
            };
        }
        allowed
    }

    /// Adds a context.
    pub fn with_named_value(mut self, name: &str) -> Self {
        if let NamedValues::Only(names) = &mut self.named {
            let lower = name.to_ascii_lowercase();
            if !names.contains(&lower) {
                names.push(lower);
            }
        }
        self
    }

    /// Adds a function with explicit argument counts.
    pub fn with_function(mut self, name: &str, min_args: usize, max_args: usize) -> Self {
        self.functions
            .retain(|f| !f.name.eq_ignore_ascii_case(name));
        self.functions
            .push(FunctionSignature::new(name, min_args, max_args));
        self
    }

    fn with_function_spec(self, spec: &str) -> Self {
        if let Some((name, min, max)) = parse_function_spec(spec) {
            return self.with_function(name, min, max);
        }
        let (min, max) = EXTRA_FUNCTIONS
            .iter()
            .find(|(n, ..)| n.eq_ignore_ascii_case(spec))
            .map_or((0, MAX_ARGS), |(_, min, max)| (*min, *max));
        let name = canonical_extra_name(spec).unwrap_or(spec);
        self.with_function(name, min, max)
    }

    /// Whether a context may be used.
    pub fn allows_named_value(&self, name: &str) -> bool {
        match &self.named {
            NamedValues::Any => true,
            NamedValues::Only(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }

    /// The signature of a function that may be called here: a core function
    /// or one of the extra functions added.
    pub fn function(&self, name: &str) -> Option<FunctionSignature> {
        core_function(name).or_else(|| {
            self.functions
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .cloned()
        })
    }

    /// The allowed contexts, or `None` when any name is accepted.
    pub fn named_values(&self) -> Option<&[String]> {
        match &self.named {
            NamedValues::Any => None,
            NamedValues::Only(names) => Some(names),
        }
    }

    /// The extra functions allowed (the core functions are always allowed).
    pub fn functions(&self) -> &[FunctionSignature] {
        &self.functions
    }
}

/// A core function's signature.
pub(crate) fn core_function(name: &str) -> Option<FunctionSignature> {
    CORE_FUNCTIONS
        .iter()
        .find(|(n, ..)| n.eq_ignore_ascii_case(name))
        .map(|(n, min, max)| FunctionSignature::new(n, *min, *max))
}

/// The canonical spelling of `hashFiles` or a status function.
pub(crate) fn canonical_extra_name(name: &str) -> Option<&'static str> {
    EXTRA_FUNCTIONS
        .iter()
        .map(|(n, ..)| *n)
        .find(|n| n.eq_ignore_ascii_case(name))
}

/// `name(min,max)` with `MAX` for no limit.
fn parse_function_spec(spec: &str) -> Option<(&str, usize, usize)> {
    let (name, rest) = spec.split_once('(')?;
    let args = rest.strip_suffix(')')?;
    let (min, max) = args.split_once(',')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let min = min.trim().parse().ok()?;
    let max = match max.trim() {
        "MAX" => MAX_ARGS,
        n => n.parse().ok()?,
    };
    Some((name, min, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder() {
        let allowed = Allowed::new(&["github", "ENV"], &["hashFiles", "success(0,0)"]);
        assert!(allowed.allows_named_value("GitHub"));
        assert!(allowed.allows_named_value("env"));
        assert!(!allowed.allows_named_value("secrets"));
        assert_eq!(
            allowed.function("HASHFILES"),
            Some(FunctionSignature::new("hashFiles", 1, 255))
        );
        assert_eq!(
            allowed.function("success"),
            Some(FunctionSignature::new("success", 0, 0))
        );
        assert_eq!(allowed.function("always"), None);
        assert_eq!(
            allowed.function("tojson"),
            Some(FunctionSignature::new("toJson", 1, 1))
        );
    }

    #[test]
    fn context_list() {
        let allowed = Allowed::from_context_list(&["github", "failure(0,MAX)", "hashFiles(1,255)"]);
        assert!(allowed.allows_named_value("github"));
        assert_eq!(
            allowed.function("failure"),
            Some(FunctionSignature::new("failure", 0, MAX_ARGS))
        );
        assert_eq!(allowed.functions().len(), 2);
    }

    #[test]
    fn any_and_core() {
        assert!(Allowed::any().allows_named_value("whatever"));
        assert!(Allowed::any().function("hashfiles").is_some());
        assert!(Allowed::any().function("withJson").is_none());
        assert!(!Allowed::core_only().allows_named_value("github"));
        assert!(Allowed::core_only().function("format").is_some());
    }
}

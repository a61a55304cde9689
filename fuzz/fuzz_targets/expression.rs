//! Feeds arbitrary text to the expression parser, the template splitter and
//! the `if:` reader, and evaluates whatever parses. None of it may panic or
//! overflow the stack, and printed trees must parse back to themselves.

#![no_main]

use gantry_expr::{
    Allowed, MapContext, Object, Value, evaluate, parse, parse_condition, parse_template,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let context = context();
    if let Ok(expr) = parse(text, &Allowed::any()) {
        let _ = evaluate(&expr, &context);
        let printed = expr.to_string();
        let reparsed = parse(&printed, &Allowed::any());
        assert!(
            reparsed.as_ref().is_ok_and(|r| *r == expr),
            "{text:?} printed as {printed:?}: {reparsed:?}"
        );
    }
    let _ = parse(text, &Allowed::new(&["github"], &["success"]));
    if let Ok(template) = parse_template(text) {
        let _ = template.evaluate(&context);
    }
    if let Ok(condition) = parse_condition(text, &Allowed::any()) {
        let _ = evaluate(&condition, &context);
    }
});

/// A small context to evaluate against.
fn context() -> MapContext {
    let mut github = Object::new();
    github.insert("ref".into(), Value::from("refs/heads/main"));
    github.insert("run_number".into(), Value::Number(7.0));
    github.insert(
        "labels".into(),
        Value::Array(vec![Value::from("bug"), Value::Null, Value::Bool(true)]),
    );
    MapContext::new()
        .with("github", Value::Object(github))
        .with("env", Value::Null)
}

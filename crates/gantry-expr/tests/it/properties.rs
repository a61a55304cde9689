//! Property tests: the parser never panics, and printing a tree gives text
//! that parses back to the same tree.

use gantry_expr::{Allowed, MapContext, Value, evaluate, parse, parse_condition, parse_template};
use proptest::prelude::*;
use proptest::sample::select;

/// Text made mostly of the characters expressions are made of.
fn expression_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            select(vec![
                "(",
                ")",
                "[",
                "]",
                ".",
                ",",
                "*",
                "!",
                "==",
                "!=",
                "<",
                "<=",
                ">",
                ">=",
                "&&",
                "||",
                "=",
                "&",
                "|",
                "'",
                "''",
                " ",
                "\n",
                "${{",
                "}}",
                "{0}",
                "-",
                "+",
                "0x",
                "1",
                ".5",
                "e5",
                "true",
                "null",
                "NaN",
                "a",
                "github",
                "format",
                "contains(",
                "case(",
                "toJSON(",
                "fromJSON(",
                "join(",
                "😊",
                "é",
            ])
            .prop_map(String::from),
            "[ -~]{1,3}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        (0u32..0xFFFF).prop_map(|n| format!("0x{n:X}")),
        (0u32..0o777).prop_map(|n| format!("0o{n:o}")),
        Just(".5".to_string()),
        Just("-0".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["null", "true", "false", "NaN", "Infinity"]).prop_map(String::from),
        number(),
        "[ -~]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        select(vec!["github", "env", "matrix", "foo-bar", "_x1", "STEPS"]).prop_map(String::from),
    ]
}

fn property_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_-]{0,6}",
        select(vec!["true", "null", "NaN", "format"]).prop_map(String::from),
    ]
}

/// Valid expression text (modulo the depth limit), in varied spellings.
fn expression() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        let op = select(vec!["==", "!=", "<", "<=", ">", ">=", "&&", "||"]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("( {a} )")),
            (inner.clone(), property_name()).prop_map(|(a, n)| format!("({a}).{n}")),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("({a})[{i}]")),
            inner.clone().prop_map(|a| format!("({a}).*")),
            inner.clone().prop_map(|a| format!("({a})[*]")),
            prop::collection::vec(inner.clone(), 1..4)
                .prop_map(|args| format!("format('{{0}} {{{{x}}}}', {})", args.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("Contains({a},{b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("startsWith({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("case({a}, {b}, {c})")),
            inner.clone().prop_map(|a| format!("toJSON({a})")),
            inner.clone().prop_map(|a| format!("fromJSON({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("join({a}, {b})")),
            Just("success()".to_string()),
        ]
    })
}

fn context() -> MapContext {
    MapContext::from_json(serde_json::json!({
        "github": {"ref": "refs/heads/main", "event": {"labels": [{"name": "a"}, {"name": "b"}]}},
        "env": {"CI": "true", "N": 3},
        "matrix": [1, [2, 3], {"x": null}],
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_never_panics(s in any::<String>()) {
        let _ = parse(&s, &Allowed::any());
        let _ = parse(&s, &Allowed::core_only());
        let _ = parse_template(&s);
        let _ = parse_condition(&s, &Allowed::any());
    }

    #[test]
    fn parsing_expression_like_text_never_panics(s in expression_like()) {
        if let Ok(expr) = parse(&s, &Allowed::any()) {
            let _ = evaluate(&expr, &context());
            let _ = expr.to_string();
        }
        let _ = parse_template(&s).map(|t| t.evaluate(&context()));
        let _ = parse_condition(&s, &Allowed::new(&["github"], &["success"]));
    }

    #[test]
    fn printing_round_trips(src in expression()) {
        let parsed = parse(&src, &Allowed::any());
        // Only the depth limit can reject the generated text.
        prop_assume!(parsed.is_ok());
        let first = parsed.unwrap();
        let printed = first.to_string();
        let second = parse(&printed, &Allowed::any());
        prop_assert!(second.is_ok(), "{src} printed as {printed}: {second:?}");
        let second = second.unwrap();
        prop_assert_eq!(&first, &second, "{} printed as {}", src, printed);
        prop_assert_eq!(second.to_string(), printed);
    }

    #[test]
    fn evaluation_never_panics(src in expression()) {
        if let Ok(expr) = parse(&src, &Allowed::any()) {
            let result = evaluate(&expr, &context());
            if let Ok(value) = result {
                // Results convert to JSON and back without loss of kind.
                let kind = value.kind_name();
                let back = Value::from_json(value.to_json());
                prop_assert!(back.kind_name() == kind || matches!(value, Value::Number(n) if !n.is_finite()));
            }
        }
    }
}

#[test]
fn depth_limit_is_the_only_rejection() {
    // The generator's deepest output can exceed the depth limit; everything
    // else it makes must parse. Spot-check one deep but legal shape.
    let src = "format('{0} {{x}}', (((github).a)[0]).*, !-1e-7 == 0x1F)";
    let expr = parse(src, &Allowed::any()).expect("parses");
    assert_eq!(
        expr.to_string(),
        "format('{0} {{x}}', github.a[0].*, (!-1E-07 == 31))"
    );
}

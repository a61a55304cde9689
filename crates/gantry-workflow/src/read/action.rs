//! The keys of action metadata files (`action.yml`).

use std::sync::Arc;

use indexmap::IndexMap;

use super::{Parsed, ReadOptions, Reader, load};
use crate::contexts::Place;
use crate::diagnostic::Diagnostic;
use crate::model::*;
use crate::source::{SourceFile, Span};
use crate::yaml::{Node, NodeKind};

const ACTION_KEYS: &[&str] = &[
    "name",
    "author",
    "description",
    "inputs",
    "outputs",
    "runs",
    "branding",
];

/// Reads an action's metadata file.
pub fn read_action(source: Arc<SourceFile>, options: &ReadOptions) -> Parsed<Action> {
    let mut reader = Reader::new(source.clone());
    reader.in_action = true;
    let root = match load(&source, options) {
        Ok(root) => root,
        Err(diagnostic) => {
            reader.push(diagnostic);
            return reader.finish(None);
        }
    };
    if matches!(root.kind, NodeKind::Null) {
        reader.push(
            Diagnostic::error("empty-file", None, "the file is empty")
                .with_hint("an action needs at least `name:`, `description:` and `runs:`"),
        );
        return reader.finish(None);
    }
    let mut action = reader.action(&root);
    if let Some(a) = &mut action {
        a.yaml = root;
    }
    reader.finish(action)
}

impl Reader {
    fn action(&mut self, root: &Node) -> Option<Action> {
        let pairs = self.mapping(
            root,
            "an action mapping with `name`, `description` and `runs`",
        )?;
        let mut action = Action {
            source: self.source.clone(),
            name: None,
            description: None,
            author: None,
            inputs: IndexMap::new(),
            outputs: IndexMap::new(),
            runs: None,
            yaml: Node::null(),
        };
        let mut composite = false;
        let mut has_runs = false;
        for (key, _, value) in self.keys_lenient(pairs, ACTION_KEYS) {
            match key {
                "name" => action.name = self.text(value, None),
                "author" => action.author = self.text(value, None),
                "description" => action.description = self.text(value, None),
                "inputs" => action.inputs = self.action_inputs(value),
                "outputs" => composite |= self.action_outputs(value, &mut action.outputs),
                "runs" => {
                    has_runs = true;
                    action.runs = self.runs(value);
                }
                "branding" => {
                    if let Some(fields) = self.mapping(value, "a mapping with `icon` and `color`") {
                        for (_, _, v) in self.keys(fields, &["icon", "color"]) {
                            self.text(v, None);
                        }
                    }
                }
                _ => {}
            }
        }
        let _ = composite;
        if !has_runs {
            self.missing(Span::point(root.span.start), "runs");
        }
        if let Some(Runs::Composite { .. }) = &action.runs {
            for output in action.outputs.values() {
                if output.value.is_none() {
                    self.push(
                        Diagnostic::error("missing-key", output.id.span, "Required property is missing: value")
                            .with_hint("outputs of composite actions take their `value` from a step, e.g. `${{ steps.build.outputs.path }}`"),
                    );
                }
            }
        }
        Some(action)
    }

    fn action_inputs(&mut self, node: &Node) -> IndexMap<String, ActionInput> {
        let mut inputs = IndexMap::new();
        let Some(pairs) = self.mapping(node, "a mapping of inputs") else {
            return inputs;
        };
        for (id, value) in self.names(pairs, true) {
            let mut input = ActionInput {
                id: id.clone(),
                description: None,
                required: false,
                default: None,
                deprecation_message: None,
            };
            if !matches!(value.kind, NodeKind::Null)
                && let Some(fields) = self.mapping(value, "an input definition")
            {
                let known = ["description", "required", "default", "deprecationMessage"];
                for (key, _, v) in self.keys_lenient(fields, &known) {
                    match key {
                        "description" => input.description = self.text(v, None),
                        "required" => input.required = self.boolean(v).is_some_and(|b| b.value),
                        "default" if matches!(v.kind, NodeKind::Null) => {}
                        "default" => input.default = self.text(v, Some(Place::ActionInputDefault)),
                        _ => input.deprecation_message = self.text(v, None),
                    }
                }
            }
            inputs.insert(id.value.clone(), input);
        }
        inputs
    }

    /// Reads outputs; returns whether any has a `value`.
    fn action_outputs(
        &mut self,
        node: &Node,
        outputs: &mut IndexMap<String, ActionOutput>,
    ) -> bool {
        let mut any_value = false;
        let Some(pairs) = self.mapping(node, "a mapping of outputs") else {
            return false;
        };
        for (id, value) in self.names(pairs, true) {
            let mut output = ActionOutput {
                id: id.clone(),
                description: None,
                value: None,
            };
            if !matches!(value.kind, NodeKind::Null)
                && let Some(fields) = self.mapping(value, "an output definition")
            {
                for (key, _, v) in self.keys(fields, &["description", "value"]) {
                    match key {
                        "description" => output.description = self.text(v, None),
                        _ => {
                            any_value = true;
                            output.value = self.text(v, Some(Place::ActionStep));
                        }
                    }
                }
            }
            outputs.insert(id.value.clone(), output);
        }
        any_value
    }

    fn runs(&mut self, node: &Node) -> Option<Runs> {
        let pairs = self.mapping(node, "a `runs` mapping with `using`")?;
        let using = pairs
            .iter()
            .find(|(k, _)| k.as_str() == Some("using"))
            .map(|(_, v)| v);
        let Some(using) = using else {
            self.missing_in(node, "using");
            return None;
        };
        let using = self.non_empty_text(using, None)?;
        let kind = using.value.to_ascii_lowercase();
        if kind == "composite" {
            let mut steps = Vec::new();
            let mut has_steps = false;
            for (key, _, value) in self.keys(pairs, &["using", "steps"]) {
                if key == "steps" {
                    has_steps = true;
                    steps = self.steps(value);
                }
            }
            if !has_steps {
                self.missing_in(node, "steps");
            }
            Some(Runs::Composite { steps })
        } else if kind == "docker" {
            let known = [
                "using",
                "image",
                "entrypoint",
                "args",
                "env",
                "pre-entrypoint",
                "post-entrypoint",
                "pre-if",
                "post-if",
            ];
            let mut image = None;
            let mut entrypoint = None;
            let mut args = Vec::new();
            let mut env = Env::new();
            let mut pre_entrypoint = None;
            let mut post_entrypoint = None;
            for (key, _, value) in self.keys(pairs, &known) {
                match key {
                    "image" => image = self.non_empty_text(value, None),
                    "entrypoint" => entrypoint = self.text(value, None),
                    "args" => args = self.string_list(value, Some(Place::ActionStep)),
                    "env" => env = self.env(value, Place::ActionStep),
                    "pre-entrypoint" => pre_entrypoint = self.text(value, None),
                    "post-entrypoint" => post_entrypoint = self.text(value, None),
                    "pre-if" | "post-if" => {
                        self.condition(value, Place::ActionStepIf);
                    }
                    _ => {}
                }
            }
            let Some(image) = image else {
                self.missing_in(node, "image");
                return None;
            };
            Some(Runs::Docker {
                image,
                entrypoint,
                args,
                env,
                pre_entrypoint,
                post_entrypoint,
            })
        } else if kind.starts_with("node") {
            let known = ["using", "main", "pre", "post", "pre-if", "post-if"];
            let mut main = None;
            let mut pre = None;
            let mut post = None;
            let mut pre_if = None;
            let mut post_if = None;
            for (key, _, value) in self.keys(pairs, &known) {
                match key {
                    "main" => main = self.non_empty_text(value, None),
                    "pre" => pre = self.non_empty_text(value, None),
                    "post" => post = self.non_empty_text(value, None),
                    "pre-if" => pre_if = self.condition(value, Place::ActionStepIf),
                    "post-if" => post_if = self.condition(value, Place::ActionStepIf),
                    _ => {}
                }
            }
            let Some(main) = main else {
                self.missing_in(node, "main");
                return None;
            };
            Some(Runs::Node {
                using,
                main,
                pre,
                post,
                pre_if,
                post_if,
            })
        } else {
            self.push(
                Diagnostic::error(
                    "invalid-value",
                    using.span,
                    format!("Unexpected value '{}'", using.value),
                )
                .with_hint(
                    "`using` is `composite`, `docker`, or a Node.js runtime such as `node20`",
                ),
            );
            None
        }
    }
}

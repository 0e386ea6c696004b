//! One review in, one decision out: the built-in controls, users' Gatekeeper constraints and
//! ValidatingAdmissionPolicies, and image rules, run over the object of the request; each
//! problem gets its action from the configuration; the response says what and why.
//!
//! Built once per configuration (controls selected, policies compiled, image patterns
//! compiled) and shared by every request until a reload replaces it.

use crate::config::{Action, AdmissionConfig, Exemption, Rule};
use crate::images::CompiledImageRules;
use crate::review::{Response, Review};
use palisade_catalog::Control;
use palisade_model::{Object, Positions, Source};
use palisade_policy::{Cluster, EnforcementAction, PolicySet, ValidationAction};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Longest warning the API server passes on whole; longer ones may be cut.
pub const WARNING_LIMIT: usize = 120;
/// Warnings per response; the rest are counted in one more.
const MAX_WARNINGS: usize = 12;

/// One problem found in a request, and what is done about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `PAL-101`, `K8sRequiredLabels/owner`, `ValidatingAdmissionPolicy/x`, `image/require-digest`.
    pub control: String,
    /// What the configuration made of it.
    pub action: Action,
    /// True when an exemption let it through.
    pub exempted: bool,
}

/// A decision with what it was made of.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// The response to send.
    pub response: Response,
    /// Every problem found, with its action.
    pub outcomes: Vec<Outcome>,
}

/// A problem found, before its action is settled.
#[derive(Debug, Clone)]
struct Problem {
    control: String,
    pointer: String,
    message: String,
    fix: String,
    /// The policy's own action (Gatekeeper enforcementAction, VAP validationActions);
    /// built-in controls have none and take the default.
    own: Option<Action>,
}

impl Problem {
    /// A violation of a user's policy: no field pointer, no fix beyond its message.
    fn of_policy(control: String, message: String, own: Action) -> Problem {
        Problem {
            control,
            pointer: String::new(),
            message,
            fix: String::new(),
            own: Some(own),
        }
    }

    /// A policy that could not be evaluated.
    fn evaluation_failure(error: palisade_policy::PolicyError) -> Problem {
        Problem::of_policy("policy-error".into(), error.message, Action::Deny)
    }
}

/// The compiled configuration.
pub struct Engine {
    config: AdmissionConfig,
    controls: Vec<&'static Control>,
    policies: PolicySet,
    /// Parameter objects of ValidatingAdmissionPolicies, from the policy files.
    cluster: Cluster<'static>,
    images: Option<(CompiledImageRules, Action)>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("origin", &self.config.origin)
            .field("controls", &self.controls.len())
            .field("constraints", &self.policies.constraints.len())
            .finish_non_exhaustive()
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub String);

impl Engine {
    /// Compiles a configuration: reads its policy files and compiles its image rules. Any
    /// policy that cannot be used is an error: a webhook that silently enforces less than
    /// it was given is worse than one that refuses to start.
    pub fn build(config: AdmissionConfig) -> Result<Engine, EngineError> {
        let catalog = palisade_catalog::catalog().map_err(|e| EngineError(e.to_string()))?;
        let controls: Vec<&'static Control> = catalog.iter().collect();
        let options = palisade_loader::Options::default();
        let read = palisade_loader::load_inputs(
            &palisade_loader::expand_files(&config.policies),
            &options,
            &|| {},
        );
        if let Some(e) = read.errors.first() {
            return Err(EngineError(format!("policies: {e}")));
        }
        let policies = PolicySet::from_objects(&read.objects);
        if let Some(e) = policies.errors.first() {
            return Err(EngineError(format!(
                "policies: {}:{}: {}",
                e.file, e.line, e.message
            )));
        }
        if let Some(e) = policies.admission_policies.errors.first() {
            return Err(EngineError(format!(
                "policies: {}:{}: {}",
                e.file, e.line, e.message
            )));
        }
        let cluster = Cluster::default()
            .with_objects_of(&policies.admission_policies.param_kinds(), &read.objects);
        let images = match &config.images {
            Some(images) => Some((
                images
                    .rules
                    .compile()
                    .map_err(|e| EngineError(e.to_string()))?,
                images.action,
            )),
            None => None,
        };
        Ok(Engine {
            config,
            controls,
            policies,
            cluster,
            images,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &AdmissionConfig {
        &self.config
    }

    /// Gatekeeper constraints and VAP bindings in force.
    pub fn policy_count(&self) -> usize {
        self.policies.constraints.len() + self.policies.admission_policies.bindings.len()
    }

    /// The `/validate` decision.
    pub fn validate(&self, review: &Review) -> Decision {
        // Deleting or connecting to an object never makes the cluster less safe; status and
        // other subresources carry no spec of their own.
        let judged = matches!(review.operation(), "CREATE" | "UPDATE")
            && matches!(review.sub_resource(), "" | "ephemeralcontainers");
        let Some(value) = review.object().filter(|_| judged) else {
            return allow();
        };
        let object = self.object_of(review, value);
        let mut problems = self.problems(review, &object);
        if review.operation() == "UPDATE"
            && self.config.allow_existing_violations
            && let Some(old) = review.old_object()
        {
            let before = self.problems_alone(&self.object_of(review, old));
            for problem in &mut problems {
                let existed = before.iter().any(|b| {
                    b.control == problem.control
                        && b.pointer == problem.pointer
                        && b.message == problem.message
                });
                if existed {
                    problem.own = Some(Action::Warn);
                    problem.message =
                        format!("already there before this update: {}", problem.message);
                }
            }
        }
        self.decide(review, &object, problems)
    }

    /// The `/mutate` decision: safe defaults filled in on CREATE, as a JSON Patch.
    pub fn mutate(&self, review: &Review) -> Decision {
        let mutations = &self.config.mutations;
        let Some(value) = review
            .object()
            .filter(|_| review.operation() == "CREATE" && review.sub_resource().is_empty())
        else {
            return allow();
        };
        if mutations.is_empty() {
            return allow();
        }
        let operations = mutations.patch(value);
        let mut decision = allow();
        if !operations.is_empty() {
            decision.response.patch = serde_json::to_value(&operations).ok();
            decision.outcomes.push(Outcome {
                control: "mutation".into(),
                action: Action::Audit,
                exempted: false,
            });
        }
        decision
    }

    /// The object under review, with the request's namespace when it does not carry one.
    fn object_of(&self, review: &Review, value: &Value) -> Object {
        let mut value = value.clone();
        let namespace = review.namespace();
        if !namespace.is_empty()
            && let Some(Value::Object(meta)) = value.get_mut("metadata")
            && !meta.contains_key("namespace")
        {
            meta.insert("namespace".into(), json!(namespace));
        }
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let source = Source::file(format!("admission://{namespace}/{kind}"), 0);
        Object::new(value, source, Positions::default())
    }

    /// Built-in controls and image rules: what the object says on its own.
    fn problems_alone(&self, object: &Object) -> Vec<Problem> {
        let mut problems: Vec<Problem> = palisade_catalog::evaluate_alone(object, &self.controls)
            .into_iter()
            .map(|f| {
                let fix = self
                    .controls
                    .iter()
                    .find(|c| c.meta.id == *f.control_id)
                    .map(|c| first_sentence(&c.meta.remediation))
                    .unwrap_or_default();
                Problem {
                    control: f.control_id.to_string(),
                    pointer: f.location.pointer,
                    message: f.message,
                    fix,
                    own: None,
                }
            })
            .collect();
        if let Some((rules, action)) = &self.images {
            problems.extend(rules.check(object).into_iter().map(|v| Problem {
                control: format!("image/{}", v.rule.id()),
                pointer: v.pointer,
                message: v.message,
                fix: String::new(),
                own: Some(*action),
            }));
        }
        problems
    }

    fn problems(&self, review: &Review, object: &Object) -> Vec<Problem> {
        let mut problems = self.problems_alone(object);
        if self.policies.constraints.is_empty() && self.policies.admission_policies.is_empty() {
            return problems;
        }
        // Policies read the request as Gatekeeper and the API server give it: the review.
        let reviewed = Object::new(
            review.value.clone(),
            object.source.clone(),
            Positions::default(),
        );
        let (violations, errors) = self.policies.review_with_errors(&reviewed, &self.cluster);
        for v in violations {
            let Some((constraint, _)) = self.policies.constraints.get(v.constraint) else {
                continue;
            };
            problems.push(Problem::of_policy(
                format!("{}/{}", constraint.kind, constraint.name),
                v.message,
                gatekeeper_action(constraint.action),
            ));
        }
        // A policy that could not be evaluated stops the request: fail closed, and say why.
        problems.extend(errors.into_iter().map(Problem::evaluation_failure));
        let (violations, errors) = self
            .policies
            .review_admission_policies(&reviewed, &self.cluster);
        for v in violations {
            let own = if v.actions.contains(&ValidationAction::Deny) {
                Action::Deny
            } else if v.actions.contains(&ValidationAction::Warn) {
                Action::Warn
            } else {
                Action::Audit
            };
            problems.push(Problem::of_policy(
                format!("ValidatingAdmissionPolicy/{}", v.policy_name),
                v.message,
                own,
            ));
        }
        problems.extend(errors.into_iter().map(Problem::evaluation_failure));
        problems
    }

    fn decide(&self, review: &Review, object: &Object, problems: Vec<Problem>) -> Decision {
        let namespace = review.namespace();
        let labels = object.labels();
        let mut denials = Vec::new();
        let mut warnings = Vec::new();
        let mut exempted = Vec::new();
        let mut outcomes = Vec::new();
        for problem in problems {
            if let Some(exemption) = self
                .config
                .exemptions
                .iter()
                .find(|e| exempts(e, &problem.control, namespace, labels, review))
            {
                exempted.push(json!({"control": problem.control, "reason": exemption.reason}));
                outcomes.push(Outcome {
                    control: problem.control,
                    action: Action::Audit,
                    exempted: true,
                });
                continue;
            }
            let ruled = self
                .config
                .rules
                .iter()
                .find(|r| applies(r, &problem.control, namespace, labels))
                .map(|r| r.action);
            // An existing violation stays a warning whatever the rule says.
            let action = match (problem.own, ruled) {
                (Some(Action::Warn), Some(Action::Deny))
                    if problem.message.starts_with("already there") =>
                {
                    Action::Warn
                }
                (_, Some(ruled)) => ruled,
                (Some(own), None) => own,
                (None, None) => self.config.default_action,
            };
            match action {
                Action::Deny => denials.push(problem.clone()),
                Action::Warn => warnings.push(problem.clone()),
                Action::Audit => {}
                Action::Off => continue,
            }
            outcomes.push(Outcome {
                control: problem.control,
                action,
                exempted: false,
            });
        }
        let mut response = Response {
            allowed: denials.is_empty(),
            ..Response::default()
        };
        if !denials.is_empty() {
            response.message = denial_message(object, &denials);
        }
        response.warnings = warning_lines(&warnings);
        let mut annotations = Map::new();
        let found: Vec<Value> = outcomes
            .iter()
            .filter(|o| !o.exempted)
            .map(|o| json!(format!("{}={}", o.control, o.action.as_str())))
            .collect();
        if !found.is_empty() {
            annotations.insert("findings".into(), json!(Value::Array(found).to_string()));
        }
        if !exempted.is_empty() {
            annotations.insert(
                "exemptions".into(),
                json!(Value::Array(exempted).to_string()),
            );
        }
        response.audit_annotations = annotations;
        Decision { response, outcomes }
    }
}

fn allow() -> Decision {
    Decision {
        response: Response {
            allowed: true,
            ..Response::default()
        },
        outcomes: Vec::new(),
    }
}

fn gatekeeper_action(action: EnforcementAction) -> Action {
    match action {
        EnforcementAction::Deny => Action::Deny,
        EnforcementAction::Warn => Action::Warn,
        EnforcementAction::Dryrun => Action::Audit,
    }
}

fn applies(rule: &Rule, control: &str, namespace: &str, labels: &Map<String, Value>) -> bool {
    rule.controls.contains(control)
        && rule.namespaces.contains(namespace)
        && rule.object_selector.matches(Some(labels))
}

fn exempts(
    exemption: &Exemption,
    control: &str,
    namespace: &str,
    labels: &Map<String, Value>,
    review: &Review,
) -> bool {
    exemption.controls.contains(control)
        && exemption.namespaces.contains(namespace)
        && exemption.object_selector.matches(Some(labels))
        && (exemption.users.is_empty()
            || exemption
                .users
                .iter()
                .any(|u| u.is_match(review.username())))
        && (exemption.groups.is_empty()
            || review
                .groups()
                .any(|g| exemption.groups.iter().any(|m| m.is_match(g))))
}

/// `spec.containers[0].securityContext.privileged` for `/spec/containers/0/securityContext/privileged`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

fn first_sentence(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.find(". ") {
        Some(end) => text.get(..=end).unwrap_or(&text).to_string(),
        None => text,
    }
}

fn denial_message(object: &Object, denials: &[Problem]) -> String {
    let mut lines = vec![format!(
        "palisade denied {} {:?}: {} {}",
        object.kind(),
        object.name(),
        denials.len(),
        if denials.len() == 1 {
            "problem"
        } else {
            "problems"
        }
    )];
    for p in denials {
        let mut line = format!("- [{}] {}", p.control, p.message);
        if !p.pointer.is_empty() {
            line.push_str(&format!(" (field {})", field_path(&p.pointer)));
        }
        if !p.fix.is_empty() {
            line.push_str(&format!(". Fix: {}", p.fix));
        }
        lines.push(line);
    }
    lines.join("\n")
}

fn warning_lines(warnings: &[Problem]) -> Vec<String> {
    let mut lines: Vec<String> = warnings
        .iter()
        .take(MAX_WARNINGS)
        .map(|p| shorten(&format!("[{}] {}", p.control, p.message)))
        .collect();
    if warnings.len() > MAX_WARNINGS {
        lines.push(format!(
            "palisade: {} more warnings; run palisade scan for all",
            warnings.len() - MAX_WARNINGS
        ));
    }
    lines
}

/// At most [`WARNING_LIMIT`] characters, cut at a character boundary with an ellipsis.
fn shorten(text: &str) -> String {
    if text.chars().count() <= WARNING_LIMIT {
        return text.to_string();
    }
    let mut out: String = text.chars().take(WARNING_LIMIT - 1).collect();
    out.push('…');
    out
}

/// Engines are swapped whole on reload; requests hold the one they started with.
pub type SharedEngine = Arc<Engine>;

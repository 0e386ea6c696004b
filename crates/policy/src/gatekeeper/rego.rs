//! A template's Rego compiled with regorus, and its `violation` rule evaluated.

use super::review::{self, Reviewed};
use super::template::RegoSource;
use serde_json::Value;
use std::num::NonZeroU32;
use std::time::Duration;

/// Longest one evaluation may run: a policy that loops must not stall a scan or an admission.
pub const EVALUATION_LIMIT: Duration = Duration::from_secs(2);

/// Compiled Rego of one template. Cloning is cheap (the modules are shared), so each
/// evaluation works on its own clone and evaluations run in parallel.
#[derive(Clone)]
pub(crate) struct RegoProgram {
    engine: regorus::Engine,
    /// `data.<package>.violation`.
    rule: String,
    /// Whether the policy reads `data.inventory` (only then is it given).
    pub uses_inventory: bool,
}

impl std::fmt::Debug for RegoProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoProgram")
            .field("rule", &self.rule)
            .finish()
    }
}

/// One result of a `violation` rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawViolation {
    pub msg: String,
    pub details: Value,
}

impl RegoProgram {
    pub fn compile(source: &RegoSource) -> Result<RegoProgram, String> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(!source.v1);
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: EVALUATION_LIMIT,
            check_interval: NonZeroU32::MIN,
        });
        for (name, text) in std::iter::once(("the template", &source.rego))
            .chain(source.libs.iter().map(|lib| ("a library", lib)))
        {
            let depth = super::compat::nesting(text);
            if depth > super::compat::MAX_NESTING {
                return Err(format!(
                    "{name} nests brackets {depth} deep; more than {} is refused, since the \
                     time to parse grows exponentially with nesting",
                    super::compat::MAX_NESTING
                ));
            }
        }
        let package = engine
            .add_policy("template.rego".into(), super::compat::rewrite(&source.rego))
            .map_err(|e| e.to_string())?;
        for (i, lib) in source.libs.iter().enumerate() {
            engine
                .add_policy(format!("lib{i}.rego"), super::compat::rewrite(lib))
                .map_err(|e| format!("library {i}: {e}"))?;
        }
        let uses_inventory = std::iter::once(&source.rego)
            .chain(&source.libs)
            .any(|rego| rego.contains("data.inventory"));
        let rule = format!("{package}.violation");
        // The first evaluation analyses and schedules the policy; clones of a prepared engine
        // skip that, which is most of the cost of a small template. The result of this
        // evaluation, on an empty input, is of no interest.
        engine.set_input(regorus::Value::new_object());
        let _ = engine.eval_rule(rule.clone());
        Ok(RegoProgram {
            engine,
            rule,
            uses_inventory,
        })
    }

    /// Runs `violation` for one reviewed object and one constraint's parameters; each result's
    /// `msg` and `details` (default `{}`).
    pub fn evaluate(
        &self,
        reviewed: &Reviewed,
        parameters: &regorus::Value,
    ) -> Result<Vec<RawViolation>, String> {
        let mut engine = self.engine.clone();
        if self.uses_inventory
            && let Some(data) = &reviewed.data
        {
            engine.add_data(data.clone()).map_err(|e| e.to_string())?;
        }
        engine.set_input(review::input(reviewed.rego(), parameters));
        let results = engine
            .eval_rule(self.rule.clone())
            .map_err(|e| e.to_string())?;
        if results == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let json = results.to_json_str().map_err(|e| e.to_string())?;
        let items: Vec<Value> = match serde_json::from_str(&json).map_err(|e| e.to_string())? {
            Value::Array(items) => items,
            other => return Err(format!("violation is not a set: {other}")),
        };
        Ok(items
            .into_iter()
            .map(|item| RawViolation {
                msg: item
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                details: item
                    .get("details")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(serde_json::Map::new())),
            })
            .collect())
    }
}

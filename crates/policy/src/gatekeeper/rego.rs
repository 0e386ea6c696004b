//! A template's Rego compiled with regorus, and its `violation` rule evaluated.

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
        let package = engine
            .add_policy("template.rego".into(), source.rego.clone())
            .map_err(|e| e.to_string())?;
        for (i, lib) in source.libs.iter().enumerate() {
            engine
                .add_policy(format!("lib{i}.rego"), lib.clone())
                .map_err(|e| format!("library {i}: {e}"))?;
        }
        Ok(RegoProgram {
            engine,
            rule: format!("{package}.violation"),
        })
    }

    /// Runs `violation` with this input; each result's `msg` and `details` (default `{}`).
    pub fn evaluate(&self, input: regorus::Value) -> Result<Vec<RawViolation>, String> {
        let mut engine = self.engine.clone();
        engine.set_input(input);
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

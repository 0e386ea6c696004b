//! Placeholder until the mutations land (same interface).
#![allow(missing_docs)]
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mutations {
    #[serde(default)]
    pub seccomp_runtime_default: bool,
    #[serde(default)]
    pub disallow_privilege_escalation: bool,
    #[serde(default)]
    pub drop_all_capabilities: bool,
    #[serde(default)]
    pub run_as_non_root: bool,
}
impl Mutations {
    pub fn is_empty(&self) -> bool {
        true
    }
    pub fn patch(&self, _o: &serde_json::Value) -> Vec<json_patch::PatchOperation> {
        Vec::new()
    }
}

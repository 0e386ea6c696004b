//! Placeholder until the image rules land (same interface).
#![allow(missing_docs)]
use palisade_model::Object;
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageRules {
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    #[serde(default)]
    pub disallow_latest: bool,
    #[serde(default)]
    pub require_digest: bool,
}
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImageRuleError(String);
#[derive(Debug, Clone, Default)]
pub struct CompiledImageRules;
impl ImageRules {
    pub fn compile(&self) -> Result<CompiledImageRules, ImageRuleError> {
        Ok(CompiledImageRules)
    }
}
#[derive(Debug, Clone, Copy)]
pub enum ImageRule {
    AllowedRegistries,
    NoLatest,
    Digest,
}
impl ImageRule {
    pub fn id(&self) -> &'static str {
        match self {
            ImageRule::AllowedRegistries => "allowed-registries",
            ImageRule::NoLatest => "disallow-latest",
            ImageRule::Digest => "require-digest",
        }
    }
}
#[derive(Debug, Clone)]
pub struct ImageViolation {
    pub rule: ImageRule,
    pub pointer: String,
    pub container: String,
    pub image: String,
    pub message: String,
}
impl CompiledImageRules {
    pub fn check(&self, _o: &Object) -> Vec<ImageViolation> {
        Vec::new()
    }
    pub fn is_empty(&self) -> bool {
        true
    }
}

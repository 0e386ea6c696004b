//! Which controls run: include and exclude lists (ids or globs such as `PAL-1*`), a minimum
//! severity, and the frameworks asked for.

use crate::ScanError;
use globset::{Glob, GlobMatcher};
use palisade_catalog::{Catalog, Control};
use palisade_frameworks::Framework;
use palisade_model::Severity;
use std::collections::BTreeSet;

/// The user's choice of controls.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these controls (ids or globs); empty means all.
    pub include: Vec<String>,
    /// Never these controls (ids or globs).
    pub exclude: Vec<String>,
    /// Only controls of this severity or above.
    pub min_severity: Option<Severity>,
    /// Only controls that the chosen frameworks map (set when the user names frameworks).
    pub frameworks_only: bool,
}

impl Selection {
    /// The controls to run, by id.
    pub fn apply<'c>(
        &self,
        catalog: &'c Catalog,
        frameworks: &[&Framework],
    ) -> Result<Vec<&'c Control>, ScanError> {
        let include = matchers(catalog, &self.include)?;
        let exclude = matchers(catalog, &self.exclude)?;
        let mapped: Option<BTreeSet<&str>> = self.frameworks_only.then(|| {
            frameworks
                .iter()
                .flat_map(|f| f.requirements.iter())
                .flat_map(|r| r.controls.iter().map(String::as_str))
                .collect()
        });
        Ok(catalog
            .iter()
            .filter(|c| include.is_empty() || include.iter().any(|m| m.is_match(&c.meta.id)))
            .filter(|c| !exclude.iter().any(|m| m.is_match(&c.meta.id)))
            .filter(|c| self.min_severity.is_none_or(|min| c.meta.severity >= min))
            .filter(|c| {
                mapped
                    .as_ref()
                    .is_none_or(|m| m.contains(c.meta.id.as_str()))
            })
            .collect())
    }
}

fn matchers(catalog: &Catalog, patterns: &[String]) -> Result<Vec<GlobMatcher>, ScanError> {
    patterns
        .iter()
        .map(|p| {
            let matcher = Glob::new(p)
                .map_err(|e| ScanError::Usage(format!("bad control pattern {p:?}: {e}")))?
                .compile_matcher();
            if !catalog.iter().any(|c| matcher.is_match(&c.meta.id)) {
                return Err(ScanError::Usage(format!(
                    "{p:?} matches no control; see `palisade controls list`"
                )));
            }
            Ok(matcher)
        })
        .collect()
}

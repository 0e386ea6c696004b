//! The detectors `palisade audit analyze` and `serve` run: Palisade's pack, Falco rules,
//! Sigma rules and the learned baselines, built from the command line.

use crate::args::AuditRuleArgs;
use palisade_audit::baseline::{BaselineConfig, Baselines};
use palisade_audit::falco::FalcoRules;
use palisade_audit::pack::{Pack, PackConfig};
use palisade_audit::sigma::{Level, SigmaRules};
use palisade_audit::{Alert, Detector, Engine, Event};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The detectors, and what loading their rules had to say.
pub struct Built {
    /// In the order they see each event.
    pub detectors: Vec<Box<dyn Detector>>,
    /// Rule problems: the rule (or file) was left out, the rest loaded.
    pub errors: Vec<String>,
    /// Things that loaded but deserve a look (Sigma fields no audit event has, ...).
    pub warnings: Vec<String>,
    /// One line per engine: what runs.
    pub loaded: Vec<String>,
}

/// Builds every detector the arguments ask for. `learn_only` makes the baselines learn
/// without alerting (and leaves the rule engines out).
pub fn build(args: &AuditRuleArgs, learn_only: bool) -> anyhow::Result<Built> {
    let mut built = Built {
        detectors: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        loaded: Vec::new(),
    };
    if !learn_only {
        if !args.no_builtin {
            let known: Vec<&str> = palisade_audit::pack::detections()
                .iter()
                .map(|d| d.id)
                .collect();
            if let Some(unknown) = args
                .disabled
                .iter()
                .find(|id| !known.contains(&id.as_str()))
            {
                anyhow::bail!("--disable {unknown}: no such detection (see docs/audit/pack.md)");
            }
            let config = PackConfig {
                disabled: args.disabled.clone(),
                ..PackConfig::default()
            };
            built.loaded.push(format!(
                "palisade: {} detections",
                known.len() - args.disabled.len()
            ));
            built.detectors.push(Box::new(Pack::new(config)));
        }
        if !args.falco_rules.is_empty() {
            let loaded = FalcoRules::load_partial(&args.falco_rules);
            built
                .errors
                .extend(loaded.errors.iter().map(|e| format!("falco: {e}")));
            built
                .warnings
                .extend(loaded.warnings.iter().map(|w| format!("falco: {w}")));
            built
                .loaded
                .push(format!("falco: {} rules", loaded.rules.rule_count()));
            built.detectors.push(Box::new(loaded.rules));
        }
        if !args.sigma.is_empty() {
            let (rules, diagnostics) = SigmaRules::load(&args.sigma);
            for d in diagnostics {
                match d.level {
                    Level::Error => built.errors.push(format!("sigma: {d}")),
                    _ => built.warnings.push(format!("sigma: {d}")),
                }
            }
            built
                .loaded
                .push(format!("sigma: {} rules", rules.rule_count()));
            built.detectors.push(Box::new(rules));
        }
    }
    if let Some(path) = &args.baseline {
        let baselines = if path.exists() {
            Baselines::load(path)?
        } else {
            Baselines::new(BaselineConfig::default())
        };
        built.loaded.push(format!(
            "baselines: {} identities known ({})",
            baselines.identities().count(),
            path.display()
        ));
        built.detectors.push(Box::new(Persisted {
            baselines,
            path: path.clone(),
            learn_only,
            saved: Instant::now(),
        }));
    }
    Ok(built)
}

/// The baselines, saved to their file every minute and when the stream ends, so that a
/// restart resumes from what was learned.
struct Persisted {
    baselines: Baselines,
    path: PathBuf,
    learn_only: bool,
    saved: Instant,
}

const SAVE_EVERY: Duration = Duration::from_secs(60);

impl Persisted {
    fn save(&mut self) {
        if let Err(e) = self.baselines.save(&self.path) {
            eprintln!("error: cannot save the baselines: {e}");
        }
        self.saved = Instant::now();
    }
}

impl Detector for Persisted {
    fn engine(&self) -> Engine {
        Engine::Baseline
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        if self.learn_only {
            self.baselines.learn_only(event);
        } else {
            self.baselines.observe(event, alerts);
        }
        if self.saved.elapsed() >= SAVE_EVERY {
            self.save();
        }
    }

    fn finish(&mut self, alerts: &mut Vec<Alert>) {
        if !self.learn_only {
            self.baselines.finish(alerts);
        }
        self.save();
    }
}

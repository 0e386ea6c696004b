//! Any bytes as an AdmissionReview body: parsed, then validated and mutated with the default
//! policy and with image rules and every mutation on. Refusals are fine; panics and hangs
//! are not. A mutation's patch must apply to the object it was made for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_admission::config::AdmissionConfig;
use palisade_admission::engine::Engine;
use palisade_admission::images::ImageRules;
use palisade_admission::mutate::Mutations;
use palisade_admission::review::Review;
use std::sync::LazyLock;

static ENGINE: LazyLock<Option<Engine>> = LazyLock::new(|| {
    let mut config = AdmissionConfig::default_policy();
    config.images = Some(palisade_admission::config::Images {
        rules: ImageRules {
            allowed_registries: vec!["ghcr.io/acme".into(), "*.azurecr.io".into()],
            disallow_latest: true,
            require_digest: true,
        },
        action: palisade_admission::config::Action::Deny,
    });
    config.mutations = Mutations {
        seccomp_runtime_default: true,
        disallow_privilege_escalation: true,
        drop_all_capabilities: true,
        run_as_non_root: true,
    };
    Engine::build(config).ok()
});

fuzz_target!(|data: &[u8]| {
    let Some(engine) = ENGINE.as_ref() else {
        return;
    };
    let Ok(review) = Review::parse(data) else {
        return;
    };
    let decision = engine.validate(&review);
    let _ = decision.response.to_review(&review);
    let mutated = engine.mutate(&review);
    if let (Some(patch), Some(object)) = (mutated.response.patch, review.object()) {
        let patch: json_patch::Patch = serde_json::from_value(patch).expect("a patch");
        let mut object = object.clone();
        json_patch::patch(&mut object, &patch).expect("the patch applies to its object");
    }
});

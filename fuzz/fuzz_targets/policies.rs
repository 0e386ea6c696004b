//! Any text read as policies (Gatekeeper templates and constraints, ValidatingAdmissionPolicies
//! and bindings) and then used to review every object of the same text: errors are fine,
//! panics and hangs are not. Rego and CEL compile, the Rego rewrites, parameter schemas,
//! match and evaluation all run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_policy::{Cluster, PolicySet};

fuzz_target!(
    init: {
        // Panics inside the YAML parser and the CEL interpreter are caught where they are
        // called and become errors of that input or expression; every other panic is a crash.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.location().is_some_and(|l| {
                l.file().contains("libyaml-safer") || l.file().contains("/cel-0.")
            }) {
                return;
            }
            abort_hook(info);
        }));
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let loaded = palisade_loader::load_text("fuzz.yaml", text);
        let set = PolicySet::from_objects(&loaded.objects);
        let cluster = Cluster::from_objects(&loaded.objects);
        for object in &loaded.objects {
            let _ = set.review_with_errors(object, &cluster);
            let _ = set.review_admission_policies(object, &cluster);
        }
    }
);

//! Any text as Sigma rules: loaded (detections, modifiers, conditions), then run on an
//! event. Errors are fine; panics, hangs and stack overflows are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::sigma::SigmaRules;
use palisade_audit::{Detector, Origin, event};

const EVENT: &str = r#"{"apiVersion":"audit.k8s.io/v1","kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/default/secrets/s","userAgent":"kubectl/v1.30.0","user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"secrets","namespace":"default","name":"s","apiVersion":"v1"},"responseStatus":{"code":200}}"#;

fuzz_target!(
    init: {
        // The YAML loader turns libyaml-safer's remaining panics (found by fuzzing the
        // loader) into input errors; only those are not crashes here.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.location().is_some_and(|l| l.file().contains("libyaml-safer")) {
                return;
            }
            abort_hook(info);
        }));
    },
    |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (mut rules, diagnostics) = SigmaRules::load_str("fuzz.yml", text);
    for d in &diagnostics {
        let _ = d.to_string();
    }
    if let Ok(events) = event::parse(EVENT, &Origin::new("event", 1)) {
        let mut alerts = Vec::new();
        for e in &events {
            rules.observe(e, &mut alerts);
        }
    }
}
);

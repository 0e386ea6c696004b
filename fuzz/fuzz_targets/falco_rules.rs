//! Any text as a Falco rules file: loaded (lists, macros, rules, exceptions, overrides,
//! conditions, outputs), then run on an event. Errors are fine; panics, hangs and stack
//! overflows (deep parentheses, recursive macros) are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::falco::FalcoRules;
use palisade_audit::{Detector, Origin, event};

const EVENT: &str = r#"{"apiVersion":"audit.k8s.io/v1","kind":"Event","auditID":"a","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/default/pods?x=1","user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"p","apiVersion":"v1"},"responseStatus":{"code":201},"requestObject":{"kind":"Pod","spec":{"hostNetwork":true,"containers":[{"name":"c","image":"nginx","securityContext":{"privileged":true}}],"volumes":[{"hostPath":{"path":"/etc"}}]}}}"#;

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
    let loaded = FalcoRules::load_texts(&[("fuzz.yaml", text)]);
    for error in &loaded.errors {
        let _ = error.to_string();
    }
    let mut rules = loaded.rules;
    if let Ok(events) = event::parse(EVENT, &Origin::new("event", 1)) {
        let mut alerts = Vec::new();
        for e in &events {
            rules.observe(e, &mut alerts);
        }
    }
}
);

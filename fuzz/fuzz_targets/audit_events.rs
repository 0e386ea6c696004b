//! Any bytes as audit input: parsed as one JSON text (event, EventList, array, AKS or GKE
//! envelope), and read as a log (lines or a pretty-printed document, plain or gzip).
//! Errors are fine; panics and hangs are not, and every event read must be an object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::Origin;
use palisade_audit::event::read::{ReadOptions, read_stream};

fuzz_target!(|data: &[u8]| {
    let origin = Origin::new("fuzz", 1);
    if let Ok((events, _)) = palisade_audit::event::parse_with_warnings(data, &origin) {
        for event in &events {
            assert!(event.json().is_object());
            let _ = (
                event.verb(),
                event.resource(),
                event.response_code(),
                event.time(),
            );
        }
    }
    let options = ReadOptions {
        max_line_bytes: 4096,
        max_document_bytes: 1 << 20,
        ..ReadOptions::default()
    };
    let mut events = 0u64;
    let stats = read_stream(
        data,
        "fuzz",
        &options,
        |e| {
            assert!(e.json().is_object());
            assert!(e.origin().line >= 1);
            events += 1;
        },
        |_| {},
    );
    assert_eq!(stats.events, events);
});

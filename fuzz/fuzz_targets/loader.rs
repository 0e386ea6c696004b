//! Arbitrary bytes through the loader and every control: no input may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = palisade_loader::Options::default();
    let loaded = palisade_loader::load_bytes("fuzz.yaml", data.to_vec(), &options);
    if let Ok(catalog) = palisade_catalog::catalog() {
        let controls: Vec<_> = catalog.iter().collect();
        let _ = palisade_catalog::evaluate(&loaded.objects, &controls);
    }
});

//! A bundle's config.json, then every setting `create` reads from it (core, board, if-running, logs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hybrid_runtime::inputs::bundle_config(data);
});

//! An image's index.json, manifest or config blob (and the bundle config built from a config), or
//! a docker-archive's manifest.json.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hybrid_runtime::inputs::image_json(data);
});

//! A container's state.json or exit.json as found in the state directory, and the record checks.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hybrid_runtime::inputs::state_record(data, "fuzz");
});

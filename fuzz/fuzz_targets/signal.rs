//! The signal argument of `kill`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(sig) = hybrid_runtime::inputs::signal(&text) {
        assert!(matches!(sig, 2 | 3 | 9 | 15), "accepted signal {sig}");
    }
});

//! A layer's tar stream (plain, gzip or zstd), entry by entry, with the paths cleaned as unpacking does.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hybrid_runtime::inputs::tar_entries(data);
});

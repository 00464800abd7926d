//! A layer blob (plain, gzip or zstd tar) unpacked into a fresh temporary directory under a 1 MiB
//! cap, as `create` unpacks one. Run it as an unprivileged user: what it unpacks is hostile.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("hybrid-fuzz-layer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("a temporary directory");
    let _ = hybrid_runtime::inputs::unpack_layer(data, &dir, 1 << 20);
    std::fs::remove_dir_all(&dir).expect("the temporary directory removed");
});

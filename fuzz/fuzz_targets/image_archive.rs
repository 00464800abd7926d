//! An image archive (oci-archive or docker-archive) read as `create` reads one: indexed, its
//! manifest chosen, its blobs verified, its layers unpacked into a fresh temporary directory under
//! a 1 MiB cap. Run it as an unprivileged user: what it unpacks is hostile.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("hybrid-fuzz-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("a temporary directory");
    let _ = hybrid_runtime::inputs::image_archive(data, &dir, 1 << 20);
    std::fs::remove_dir_all(&dir).expect("the temporary directory removed");
});

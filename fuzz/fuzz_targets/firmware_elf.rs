//! A firmware file, through the ELF checks `create` runs before touching a core.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hybrid_runtime::inputs::firmware_elf(data);
});

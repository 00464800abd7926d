//! Firmware output through the trace buffer: successive snapshots of the ring, followed and
//! framed into lines as the monitor does; no line may exceed the documented bound.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (_, longest) = hybrid_runtime::inputs::firmware_trace(data);
    assert!(longest <= hybrid_runtime::inputs::MAX_LINE, "line of {longest} bytes");
});

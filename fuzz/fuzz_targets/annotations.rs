//! Annotations and environment entries (`key=value` lines; a line starting with `env:` is an
//! environment entry), through every setting `create` reads from them.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut pairs = Vec::new();
    let mut env = Vec::new();
    for line in text.split('\n') {
        if let Some(e) = line.strip_prefix("env:") {
            env.push(e.to_string());
        } else if let Some((k, v)) = line.split_once('=') {
            pairs.push((k.to_string(), v.to_string()));
        }
    }
    let _ = hybrid_runtime::inputs::annotations(&pairs, &env);
});

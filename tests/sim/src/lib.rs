//! Test support for hybrid-runtime: firmware ELF builder and simulator harness.

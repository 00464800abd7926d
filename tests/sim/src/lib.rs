//! Test support for hybrid-runtime: the firmware ELF builder, the ELF reader the
//! simulator loads firmware with, and the `Sim` guard that runs the simulator.
pub mod elf;
pub mod firmware;
pub mod harness;
pub mod image;

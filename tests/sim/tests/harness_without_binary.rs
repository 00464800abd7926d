//! The guard's error when the simulator binary is missing (its own test binary:
//! it changes the environment of the whole process).
use hybrid_sim::harness::Sim;

#[test]
fn missing_binary_error_says_how_to_build_it() {
    std::env::set_var("HYBRID_SIM_BIN", "/nonexistent/hybrid-sim");
    let err = Sim::start(&[]).err().expect("start must fail");
    assert!(
        err.to_string().contains("cargo build -p hybrid-sim"),
        "{err}"
    );
    assert!(err.to_string().contains("/nonexistent/hybrid-sim"), "{err}");
}

//! Running the binary; everything else comes from `aicr-test-support`.

use std::process::{Command, Output};

/// Runs `aicr` with `args`.
pub fn aicr<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_aicr"))
        .args(args)
        .output()
        .expect("aicr runs")
}

/// Exit status, stdout and stderr as text.
pub fn run<I, S>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    aicr_test_support::output_text(aicr(args))
}

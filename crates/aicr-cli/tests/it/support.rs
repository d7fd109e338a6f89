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

/// Writes the embedded catalog's eks/h100/training recipe to `path`, the
/// recipe the bundle, vendoring, signing and OCI tests start from.
pub fn write_recipe(path: &std::path::Path) {
    let (code, _, err) = run([
        "recipe".as_ref(),
        "--service".as_ref(),
        "eks".as_ref(),
        "--accelerator".as_ref(),
        "h100".as_ref(),
        "--intent".as_ref(),
        "training".as_ref(),
        "-o".as_ref(),
        path.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
}

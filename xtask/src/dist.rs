//! `cargo xtask dist`: the `aicr` binary as we ship it, in `target/dist/`.
//!
//! It is the release build linked statically (`static-pie`: glibc, libm
//! and libgcc in the binary). A process then maps one file instead of four
//! and resolves no symbols at start-up, which takes about 1.5 ms off every
//! command on our 2-core machine (docs/benchmarks.md).
//!
//! `+crt-static` is given to the final crate only (`cargo rustc`): set for
//! the whole build (RUSTFLAGS) it would also apply to proc-macro crates,
//! which must be dynamic libraries, and the build would fail.
//!
//! Host names are looked up through glibc's NSS modules, which a static
//! glibc still loads from the system at run time; they need a glibc of a
//! compatible version there (any current distribution has one).

use std::path::PathBuf;

use anyhow::{Result, bail};

pub fn run(args: &[String]) -> Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask dist");
    }
    let path = build()?;
    println!("{}", path.display());
    Ok(())
}

/// Builds the shipped `aicr`; returns its path.
pub fn build() -> Result<PathBuf> {
    build_static("aicr-cli", "aicr")
}

/// Builds binary `bin` of `package` as we ship it (release, static-pie)
/// into `target/dist/`; returns its path.
pub fn build_static(package: &str, bin: &str) -> Result<PathBuf> {
    let status = crate::cargo()
        .args(["rustc", "--release", "-p", package, "--bin", bin, "--"])
        .args(["-C", "target-feature=+crt-static"])
        .status()?;
    if !status.success() {
        bail!("static release build of {bin} failed");
    }
    let dist = crate::root().join("target/dist");
    std::fs::create_dir_all(&dist)?;
    let path = dist.join(bin);
    std::fs::copy(crate::root().join("target/release").join(bin), &path)?;
    Ok(path)
}

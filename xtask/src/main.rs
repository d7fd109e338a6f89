//! Repository tasks: `cargo xtask <task>`.
//!
//! - `conformance`: the reference recipe corpus through the library; prints `parity X/Y`.
//! - `bench`: whole-process latency and peak memory of the `aicr` binary.
//! - `recipes-lint [--data DIR | --catalog DIR]`: every problem of a recipe catalog.
//! - `codegen [--check]`: JSON Schemas in `schemas/` from the document types.

// xtask is a repository tool, not library code: it runs cargo and the
// binary, reads the environment and writes generated files.
#![allow(clippy::disallowed_methods)]

mod bench;
mod codegen;
mod conformance;
mod lint;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        bail!("usage: cargo xtask <conformance|bench|recipes-lint|codegen> [args]");
    };
    match task.as_str() {
        "conformance" => conformance::run(rest),
        "bench" => bench::run(rest),
        "recipes-lint" => lint::run(rest),
        "codegen" => codegen::run(rest),
        other => bail!("unknown task {other:?}; tasks: conformance, bench, recipes-lint, codegen"),
    }
}

/// The workspace root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

//! Repository tasks: `cargo xtask <task>`.
//!
//! - `conformance`: the reference recipe corpus through the library; prints `parity X/Y`.
//! - `bench`: whole-process latency and peak memory of the `aicr` binary.
//! - `dist`: the static release binary, `target/dist/aicr`.
//! - `bench-server [--reference BIN] [SECONDS]`: aicrd's throughput under wrk.
//! - `recipes-lint [--data DIR | --catalog DIR]`: every problem of a recipe catalog.
//! - `codegen [--check]`: JSON Schemas in `schemas/` from the document types.
//! - `fuzz [SECONDS] [--minimize] [TARGET...]`: every fuzz target from its committed corpus.

// xtask is a repository tool, not library code: it runs cargo and the
// binary, reads the environment and writes generated files.
#![allow(clippy::disallowed_methods)]

mod bench;
mod bench_server;
mod codegen;
mod conformance;
mod dist;
mod fuzz;
mod lint;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        bail!(
            "usage: cargo xtask <conformance|bench|bench-server|dist|recipes-lint|codegen|fuzz> [args]"
        );
    };
    match task.as_str() {
        "conformance" => conformance::run(rest),
        "bench" => bench::run(rest),
        "bench-server" => bench_server::run(rest),
        "dist" => dist::run(rest),
        "recipes-lint" => lint::run(rest),
        "codegen" => codegen::run(rest),
        "fuzz" => fuzz::run(rest),
        other => {
            bail!(
                "unknown task {other:?}; tasks: conformance, bench, bench-server, dist, recipes-lint, codegen, fuzz"
            )
        }
    }
}

/// The workspace root.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo that runs this task (`$CARGO`), in the workspace root.
pub fn cargo() -> std::process::Command {
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

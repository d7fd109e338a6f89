//! `aicr`: the command-line frontend. It parses flags, calls the facade and
//! formats output; all business logic lives in the library crates.

mod bundle_cmd;
mod check_cmd;
mod cli;
mod lint_cmd;
mod mcp_cmd;
mod oci_cmd;
mod skill_cmd;
mod snapshot_cmd;

// The one place that exits: the status comes from the error code.
#[allow(clippy::disallowed_methods)]
fn main() {
    std::process::exit(cli::run(std::env::args_os()));
}

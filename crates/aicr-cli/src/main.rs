//! `aicr`: the command-line frontend. It parses flags, calls the facade and
//! formats output; all business logic lives in the library crates.

mod bundle_cmd;
mod cli;
mod lint_cmd;

fn main() {
    std::process::exit(cli::run(std::env::args_os()));
}

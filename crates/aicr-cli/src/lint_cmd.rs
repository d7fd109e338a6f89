//! `aicr recipe lint`: checks a catalog the way `cargo xtask recipes-lint`
//! does, for authors without a Rust toolchain.

use aicr::{CatalogSource, Output, Result};
use clap::{Args, Subcommand};

use crate::cli::CatalogArgs;

/// Subcommands of `aicr recipe`.
#[derive(Debug, Subcommand)]
pub enum RecipeSub {
    /// Check a recipe catalog and report every problem.
    Lint(LintArgs),
}

/// Flags of `aicr recipe lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    source: CatalogArgs,
}

/// Runs a `recipe` subcommand. Problems go to stdout, one per line; any
/// problem makes the command fail with INVALID_REQUEST.
pub fn run(sub: RecipeSub) -> Result<()> {
    let RecipeSub::Lint(args) = sub;
    let source = CatalogSource::choose(args.source.catalog, args.source.data, None);
    let report = source.lint()?;
    Output::Stdout.write(report.to_string().as_bytes())?;
    report.into_result()
}

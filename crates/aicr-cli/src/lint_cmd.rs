//! `aicr recipe lint`: checks a catalog the way `cargo xtask recipes-lint`
//! does, for authors without a Rust toolchain.

use aicr::{Error, Result};
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
    let report = aicr::lint_catalog(args.source.catalog.as_deref(), args.source.data.as_deref())?;
    for problem in &report.problems {
        println!("{problem}");
    }
    match report.problems.len() {
        0 => {
            println!(
                "catalog OK: {} overlays, {} mixins, {} components",
                report.overlays, report.mixins, report.components
            );
            Ok(())
        }
        1 => Err(Error::invalid("catalog has 1 problem")),
        n => Err(Error::invalid(format!("catalog has {n} problems"))),
    }
}

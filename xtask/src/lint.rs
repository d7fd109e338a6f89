//! `cargo xtask recipes-lint [--data DIR | --catalog DIR]`: every problem
//! of a recipe catalog (the embedded `recipes/` by default), one per line.

use std::path::PathBuf;

use anyhow::{Result, bail};

pub fn run(args: &[String]) -> Result<()> {
    let (mut data, mut catalog) = (None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let slot = match arg.as_str() {
            "--data" => &mut data,
            "--catalog" => &mut catalog,
            other => bail!(
                "unknown argument {other:?}; usage: recipes-lint [--data DIR | --catalog DIR]"
            ),
        };
        let Some(dir) = it.next() else {
            bail!("{arg} needs a directory");
        };
        *slot = Some(PathBuf::from(dir));
    }
    if data.is_some() && catalog.is_some() {
        bail!("--data and --catalog cannot be used together");
    }
    let report = aicr::lint_catalog(catalog.as_deref(), data.as_deref())?;
    print!("{report}");
    if !report.is_ok() {
        eprintln!("catalog has {} problem(s)", report.problems.len());
        std::process::exit(aicr::Code::InvalidRequest.exit_status());
    }
    Ok(())
}

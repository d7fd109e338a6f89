//! `cargo xtask fuzz [SECONDS] [--minimize] [TARGET...]`: runs every fuzz
//! target of `fuzz/` (or the named ones) for SECONDS each (30 by default),
//! starting from its committed corpus in `fuzz/corpus/TARGET`.
//!
//! libFuzzer runs on the stable toolchain: `RUSTC_BOOTSTRAP=1` lets
//! `cargo fuzz` pass its `-Z` flags, and `--sanitizer none` needs no
//! sanitizer runtime. A crash, a hang (an input running 10 s), an
//! allocation above 200 MiB or a resident set above 400 MiB fails the task;
//! libFuzzer leaves the input in `fuzz/artifacts/TARGET/`.
//!
//! `--minimize` runs `cargo fuzz cmin` on each corpus afterwards, so that
//! what is committed stays small: do it after long runs, before committing.

use anyhow::{Context, Result, bail};

/// Bytes of the largest input libFuzzer generates. Recipes and templates
/// worth finding fit; larger inputs only slow every target down.
const MAX_LEN: usize = 16 * 1024;

pub fn run(args: &[String]) -> Result<()> {
    let mut seconds = 30u64;
    let mut minimize = false;
    let mut chosen = Vec::new();
    for arg in args {
        if arg == "--minimize" {
            minimize = true;
        } else if let Ok(n) = arg.parse() {
            seconds = n;
        } else {
            chosen.push(arg.clone());
        }
    }
    let all = targets()?;
    for name in &chosen {
        if !all.contains(name) {
            bail!("no fuzz target {name:?}; targets: {}", all.join(", "));
        }
    }
    let targets = if chosen.is_empty() { all } else { chosen };

    let fuzz = crate::root().join("fuzz");
    let have_cargo_fuzz = crate::cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_cargo_fuzz {
        bail!("cargo-fuzz is not installed: cargo install cargo-fuzz --version 0.13.2 --locked");
    }
    let cargo_fuzz = |args: &[&str]| -> Result<()> {
        let status = crate::cargo()
            .arg("fuzz")
            .args(args)
            .current_dir(&fuzz)
            .env("RUSTC_BOOTSTRAP", "1")
            .status()
            .with_context(|| format!("running cargo fuzz {}", args.join(" ")))?;
        if !status.success() {
            bail!("cargo fuzz {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    cargo_fuzz(&["build", "--sanitizer", "none", "-O"])?;
    let mut failed = Vec::new();
    for target in &targets {
        let corpus = fuzz.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        eprintln!("== fuzz {target} for {seconds} s");
        let max_time = format!("-max_total_time={seconds}");
        let max_len = format!("-max_len={MAX_LEN}");
        let result = cargo_fuzz(&[
            "run",
            "--sanitizer",
            "none",
            "-O",
            target,
            "--",
            &max_time,
            &max_len,
            "-timeout=10",
            "-malloc_limit_mb=200",
            "-rss_limit_mb=400",
            "-print_final_stats=1",
        ]);
        if let Err(e) = result {
            eprintln!("{e}");
            failed.push(target.clone());
            continue;
        }
        if minimize {
            eprintln!("== minimize the corpus of {target}");
            cargo_fuzz(&["cmin", "--sanitizer", "none", "-O", target, "--", &max_len])?;
        }
    }
    if !failed.is_empty() {
        bail!(
            "fuzz targets failed: {} (inputs in fuzz/artifacts/)",
            failed.join(", ")
        );
    }
    eprintln!("fuzzed {} targets for {seconds} s each", targets.len());
    Ok(())
}

/// The `[[bin]]` names of `fuzz/Cargo.toml`, in file order.
fn targets() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(crate::root().join("fuzz/Cargo.toml"))?;
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && let Some(value) = line.strip_prefix("name = ") {
            names.push(value.trim_matches('"').to_string());
        }
    }
    if names.is_empty() {
        bail!("fuzz/Cargo.toml names no targets");
    }
    Ok(names)
}

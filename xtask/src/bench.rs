//! Whole-process figures for the `aicr` binary: wall time over many runs
//! and the peak resident memory of a run, measured with `wait4`. Bundles
//! are written under `$TMPDIR` (set `TMPDIR=/dev/shm` to leave the disk
//! out of the figure).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const RECIPE: &[&str] = &[
    "recipe",
    "--service",
    "eks",
    "--accelerator",
    "h100",
    "--os",
    "ubuntu",
    "--intent",
    "training",
    "--platform",
    "kubeflow",
];

pub fn run(args: &[String]) -> Result<()> {
    let runs: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "aicr-cli"])
        .current_dir(crate::root())
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    let bin = crate::root().join("target/release/aicr");
    report(
        &bin,
        "aicr recipe eks/h100/ubuntu/training/kubeflow",
        RECIPE,
        runs,
    )?;

    let work = std::env::temp_dir().join(format!("aicr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let recipe = work.join("recipe.yaml").to_string_lossy().into_owned();
    let mut args: Vec<&str> = RECIPE.to_vec();
    args.extend(["-o", &recipe]);
    if !Command::new(&bin).args(&args).status()?.success() {
        bail!("writing the bench recipe failed");
    }
    let out = work.join("bundle-{n}").to_string_lossy().into_owned();
    let bundle = ["bundle", "-r", &recipe, "-d", "helm", "-o", &out];
    let label = "aicr bundle eks/h100/ubuntu/training/kubeflow --deployer helm";
    let result = report(&bin, label, &bundle, runs);
    std::fs::remove_dir_all(&work)?;
    result
}

fn report(bin: &std::path::Path, label: &str, args: &[&str], runs: usize) -> Result<()> {
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut peak_kib = 0;
    for run in 0..runs {
        // `{n}` in an argument becomes the run number: each bundle run
        // writes a fresh directory, as a user's first run does.
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{n}", &run.to_string()))
            .collect();
        let start = Instant::now();
        let child = Command::new(bin)
            .args(&args)
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("running {}", bin.display()))?;
        let (ok, rss) = wait_with_rss(child.id())?;
        times.push(start.elapsed());
        peak_kib = peak_kib.max(rss);
        if !ok {
            bail!("{label} failed");
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|d| ms(*d)).sum::<f64>() / times.len() as f64;
    println!(
        "{label}: {runs} runs, median {:.2} ms, mean {:.2} ms, p95 {:.2} ms, peak RSS {:.1} MiB",
        ms(times[times.len() / 2]),
        mean,
        ms(times[times.len() * 95 / 100]),
        peak_kib as f64 / 1024.0
    );
    Ok(())
}

/// Waits for `pid` and returns (exited with 0, its peak resident set in KiB).
fn wait_with_rss(pid: u32) -> Result<(bool, i64)> {
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 writes the status and the rusage of the child it reaps.
    let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, usage.as_mut_ptr()) };
    if rc < 0 {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    // SAFETY: wait4 succeeded, so the rusage is initialised.
    let usage = unsafe { usage.assume_init() };
    Ok((
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        usage.ru_maxrss,
    ))
}

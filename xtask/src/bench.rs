//! Whole-process figures for the `aicr` binary: wall time over many runs
//! and the peak resident memory of a run, measured with `wait4`.
//!
//! `cargo xtask bench [--reference BIN] [RUNS]`
//!
//! With `--reference`, the reference binary (NVIDIA/aicr, Go) runs the
//! same commands in the same loop, interleaved with ours (the order
//! alternates from run to run), and the report gives both medians and
//! their ratio. An empty process (`/bin/true`) is measured alongside as the
//! floor of any command on the machine.
//!
//! Bundles are written to a fresh directory per run under `$TMPDIR` when
//! it is set, else `/dev/shm` (tmpfs: the disk is left out of the figure),
//! else the system temporary directory; each is removed after its run,
//! outside the timed part.

use std::path::{Path, PathBuf};
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

const RECIPE_LABEL: &str = "recipe eks/h100/ubuntu/training/kubeflow";
const SNAPSHOT_LABEL: &str = "snapshot of this machine (local collection)";
const BUNDLE_LABEL: &str = "bundle eks/h100/ubuntu/training/kubeflow -d helm";

/// One binary under test and the figures of its runs of one command.
struct Subject {
    name: &'static str,
    bin: PathBuf,
    /// Arguments; `{n}` becomes the run number.
    args: Vec<String>,
    /// Extra environment variables.
    env: Vec<(&'static str, &'static str)>,
    times: Vec<Duration>,
    peak_kib: i64,
}

impl Subject {
    fn new(name: &'static str, bin: &Path, args: &[&str]) -> Self {
        Subject {
            name,
            bin: bin.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            times: Vec::new(),
            peak_kib: 0,
        }
    }

    /// Runs once, timing it from spawn to reap.
    fn run_once(&mut self, run: usize, label: &str) -> Result<()> {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.replace("{n}", &run.to_string()))
            .collect();
        let start = Instant::now();
        let child = Command::new(&self.bin)
            .args(&args)
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))?;
        let (ok, rss) = wait_with_rss(child.id())?;
        self.times.push(start.elapsed());
        self.peak_kib = self.peak_kib.max(rss);
        if !ok {
            bail!("{} {label} failed", self.name);
        }
        Ok(())
    }

    fn median(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort();
        ms(t[t.len() / 2])
    }

    fn print(&self, label: &str) {
        let mut t = self.times.clone();
        t.sort();
        let mean = t.iter().map(|d| ms(*d)).sum::<f64>() / t.len() as f64;
        println!(
            "{:<9} {label}: {} runs, median {:.2} ms, mean {:.2} ms, p95 {:.2} ms, peak RSS {:.1} MiB",
            self.name,
            t.len(),
            ms(t[t.len() / 2]),
            mean,
            ms(t[t.len() * 95 / 100]),
            self.peak_kib as f64 / 1024.0
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(args: &[String]) -> Result<()> {
    let mut runs = 200;
    let mut reference: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--reference" => {
                let path = it.next().context("--reference needs a path")?;
                reference = Some(PathBuf::from(path));
            }
            n => runs = n.parse().with_context(|| format!("runs: {n:?}"))?,
        }
    }
    if runs == 0 {
        bail!("runs must be at least 1");
    }
    // The binary as we ship it (`cargo xtask dist`).
    let ours = crate::dist::build()?;
    if let Some(r) = &reference
        && !r.is_file()
    {
        bail!("reference binary {} not found", r.display());
    }

    let work = bench_dir().join(format!("aicr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = measure(&ours, reference.as_deref(), &work, runs);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn bench_dir() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some() {
        return std::env::temp_dir();
    }
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn measure(ours: &Path, reference: Option<&Path>, work: &Path, runs: usize) -> Result<()> {
    println!("bundles under {}", work.display());
    let floor = Path::new("/bin/true");
    let mut subjects = vec![Subject::new("aicr-rs", ours, RECIPE)];
    if let Some(r) = reference {
        subjects.push(Subject::new("reference", r, RECIPE));
    }
    if floor.is_file() {
        subjects.push(Subject::new("empty", floor, &[]));
    }
    interleave(&mut subjects, RECIPE_LABEL, runs, |_, _| Ok(()))?;
    report(&subjects, RECIPE_LABEL);

    // Each tool bundles the recipe it wrote itself.
    let mut subjects = Vec::new();
    for (name, bin) in std::iter::once(("aicr-rs", ours)).chain(reference.map(|r| ("reference", r)))
    {
        let recipe = work.join(format!("{name}-recipe.yaml"));
        let recipe = recipe.to_string_lossy().into_owned();
        let mut args: Vec<&str> = RECIPE.to_vec();
        args.extend(["-o", &recipe]);
        if !Command::new(bin)
            .args(&args)
            .stderr(Stdio::null())
            .status()?
            .success()
        {
            bail!("{name}: writing the bench recipe failed");
        }
        let out = work.join(format!("{name}-bundle-{{n}}"));
        let out = out.to_string_lossy().into_owned();
        subjects.push(Subject::new(
            name,
            bin,
            &["bundle", "-r", &recipe, "-d", "helm", "-o", &out],
        ));
    }
    interleave(&mut subjects, BUNDLE_LABEL, runs, |s, run| {
        // A fresh directory each run, as a user's first run; removed
        // outside the timed part so tmpfs does not fill up.
        let dir = s.args[6].replace("{n}", &run.to_string());
        std::fs::remove_dir_all(&dir).with_context(|| format!("{} wrote no bundle", s.name))
    })?;
    report(&subjects, BUNDLE_LABEL);

    // The reference collects locally only as its own agent does, when
    // AICR_AGENT_MODE=true; both write YAML to stdout.
    let mut subjects = vec![Subject::new("aicr-rs", ours, &["snapshot", "--local"])];
    if let Some(r) = reference {
        let mut subject = Subject::new("reference", r, &["snapshot"]);
        subject.env.push(("AICR_AGENT_MODE", "true"));
        subjects.push(subject);
    }
    interleave(&mut subjects, SNAPSHOT_LABEL, runs, |_, _| Ok(()))?;
    report(&subjects, SNAPSHOT_LABEL);
    Ok(())
}

/// Runs every subject `runs` times, one after the other within a round,
/// rotating which goes first so none always follows the same neighbour.
fn interleave(
    subjects: &mut [Subject],
    label: &str,
    runs: usize,
    after: impl Fn(&Subject, usize) -> Result<()>,
) -> Result<()> {
    let n = subjects.len();
    for run in 0..runs {
        for k in 0..n {
            let s = &mut subjects[(run + k) % n];
            s.run_once(run, label)?;
            after(s, run)?;
        }
    }
    Ok(())
}

fn report(subjects: &[Subject], label: &str) {
    for s in subjects {
        s.print(label);
    }
    let find = |name: &str| subjects.iter().find(|s| s.name == name);
    if let (Some(ours), Some(reference)) = (find("aicr-rs"), find("reference")) {
        println!(
            "ratio     {label}: reference / aicr-rs = {:.1}x (medians)",
            reference.median() / ours.median()
        );
    }
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

//! The malformed-input corpus (`tests/malformed/`): every file, fed to the
//! command its kind names, must give the expected exit status, within a
//! deadline, without a panic, without `INTERNAL`, without a raw control
//! character on stderr, and without writing anything outside its output.
//!
//! Kinds and the command each runs (`{}` is the file, `OUT` a fresh path):
//! - `recipe/*`: `bundle -r {} -o OUT`
//! - `config/*`: `recipe --config {}`
//! - `registry/*`: `recipe --service eks --data DIR` with `DIR/registry.yaml` = the file
//! - `overlay/*`: the same with a valid registry and `DIR/overlays/bad.yaml` = the file
//! - `checksums/*`: `verify B` where `B/checksums.txt` of a valid bundle is the file
//! - `flag-<name>/*`: the file holds one value of `--<name>`, passed to
//!   `bundle` (or to `recipe` for `--format`)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::run;

/// Longest any single run may take (a debug build, a loaded machine).
const DEADLINE: Duration = Duration::from_secs(30);

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/malformed")
}

/// Runs the binary in `cwd` with a deadline; exit status and stderr.
fn run_bounded(args: &[String], cwd: &Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aicr"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aicr starts");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            return (-2, format!("hung for more than {DEADLINE:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A valid recipe and a valid bundle of it, made once.
struct Fixtures {
    _dir: tempfile::TempDir,
    recipe: PathBuf,
    bundle: PathBuf,
}

fn fixtures() -> Fixtures {
    let dir = tempfile::tempdir().unwrap();
    let recipe = dir.path().join("recipe.yaml");
    let bundle = dir.path().join("bundle");
    let r = recipe.to_str().unwrap();
    crate::support::write_recipe(&recipe);
    let (code, _, err) = run(["bundle", "-r", r, "-o", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    Fixtures {
        _dir: dir,
        recipe,
        bundle,
    }
}

/// The command line for one corpus file, set up inside `work`.
fn command(kind: &str, file: &Path, work: &Path, fx: &Fixtures) -> Vec<String> {
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = s(&work.join("out"));
    let data = work.join("data");
    let registry =
        "apiVersion: aicr.nvidia.com/v1alpha1\nkind: ComponentRegistry\ncomponents: []\n";
    let strings = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match kind {
        "recipe" => strings(&["bundle", "-r", &s(file), "-o", &out]),
        "config" => strings(&["recipe", "--config", &s(file)]),
        "registry" | "overlay" => {
            std::fs::create_dir_all(data.join("overlays")).unwrap();
            if kind == "registry" {
                std::fs::copy(file, data.join("registry.yaml")).unwrap();
            } else {
                std::fs::write(data.join("registry.yaml"), registry).unwrap();
                std::fs::copy(file, data.join("overlays/bad.yaml")).unwrap();
            }
            strings(&["recipe", "--service", "eks", "--data", &s(&data)])
        }
        "checksums" => {
            let bundle = work.join("bundle");
            aicr_test_support::copy_dir(&fx.bundle, &bundle);
            std::fs::copy(file, bundle.join("checksums.txt")).unwrap();
            strings(&["verify", &s(&bundle)])
        }
        "flag-format" => {
            let value = std::fs::read_to_string(file).unwrap();
            strings(&["recipe", "--service", "eks", "--format", &value])
        }
        flag => {
            let name = flag.strip_prefix("flag-").expect("a known kind");
            let value = std::fs::read_to_string(file).unwrap();
            let mut args = strings(&["bundle", "-r", &s(&fx.recipe), "-o", &out]);
            args.push(format!("--{name}"));
            args.push(value);
            args
        }
    }
}

#[test]
fn every_malformed_input_gets_its_expected_status_and_nothing_worse() {
    let root = corpus();
    let table = std::fs::read_to_string(root.join("expected.tsv")).unwrap();
    let fx = fixtures();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (rel, want) = line.split_once('\t').expect("file<TAB>status");
        let want: i32 = want.parse().unwrap();
        let kind = rel.split('/').next().unwrap();
        let work = tempfile::tempdir().unwrap();
        let args = command(kind, &root.join(rel), work.path(), &fx);
        let (code, err) = run_bounded(&args, work.path());
        count += 1;
        if code != want {
            failures.push(format!("{rel}: exit {code}, want {want}: {err}"));
        }
        if code == 8 || code == 101 || err.contains("panicked") {
            failures.push(format!("{rel}: INTERNAL or panic: {err}"));
        }
        if err.chars().any(|c| c.is_control() && c != '\n') {
            failures.push(format!("{rel}: raw control character on stderr"));
        }
        if err.lines().any(|l| l.len() > 4096) {
            failures.push(format!("{rel}: an unbounded message line"));
        }
        let outside: Vec<_> = std::fs::read_dir(work.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !["data", "bundle"].contains(&n.as_str()))
            .collect();
        if !outside.is_empty() {
            failures.push(format!("{rel}: left {outside:?} behind"));
        }
    }
    assert!(count >= 200, "the corpus has {count} files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Runs the conformance suites (the same tests CI runs) in release mode and
//! prints their parity lines.

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    let out = crate::cargo()
        .args([
            "test",
            "--release",
            "-p",
            "aicr",
            "--test",
            "it",
            "--",
            "conformance",
            "hydrated",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines().filter(|l| l.contains("parity")) {
        println!("{line}");
    }
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        bail!("conformance failed");
    }
    Ok(())
}

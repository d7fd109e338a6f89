//! `verify` on bundles someone else made: links are never followed,
//! special files never read, unsafe listed paths are findings, and a
//! broken `checksums.txt` is UNAUTHORIZED with a bounded message.

use std::path::Path;

use aicr_bundle::checksum::sha256_hex;
use aicr_bundle::verify::Problem;
use aicr_bundle::{FileTree, verify_dir, write_tree};
use aicr_core::Code;

fn bundle(dir: &Path) {
    let mut tree = FileTree::new();
    tree.insert("001-a/values.yaml", "a: 1\n");
    tree.insert_executable("deploy.sh", "#!/usr/bin/env bash\n");
    aicr_bundle::checksum::add_checksums(&mut tree);
    write_tree(&tree, dir, false).unwrap();
}

/// Appends `<sha>  <path>` lines to the bundle's checksums.txt.
fn list(dir: &Path, entries: &[(&str, &[u8])]) {
    let mut text = std::fs::read_to_string(dir.join("checksums.txt")).unwrap();
    for (path, bytes) in entries {
        text.push_str(&format!("{}  {path}\n", sha256_hex(bytes)));
    }
    std::fs::write(dir.join("checksums.txt"), text).unwrap();
}

fn problem_of(dir: &Path, path: &str) -> Option<Problem> {
    verify_dir(dir, None)
        .unwrap()
        .findings
        .into_iter()
        .find(|f| f.path == path)
        .map(|f| f.problem)
}

#[cfg(unix)]
#[test]
fn a_listed_symlink_to_an_outside_file_is_a_finding_even_when_its_target_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    let outside = tmp.path().join("secret");
    std::fs::write(&outside, "root:x:0:0\n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("passwd")).unwrap();
    list(&dir, &[("passwd", b"root:x:0:0\n")]);
    assert_eq!(problem_of(&dir, "passwd"), Some(Problem::Symlink));
}

#[cfg(unix)]
#[test]
fn a_script_replaced_by_a_link_to_an_identical_copy_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    let copy = tmp.path().join("deploy.sh");
    std::fs::copy(dir.join("deploy.sh"), &copy).unwrap();
    std::fs::remove_file(dir.join("deploy.sh")).unwrap();
    std::os::unix::fs::symlink(&copy, dir.join("deploy.sh")).unwrap();
    assert_eq!(problem_of(&dir, "deploy.sh"), Some(Problem::Symlink));
    let err = verify_dir(&dir, None)
        .unwrap()
        .into_result(None)
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
}

#[cfg(unix)]
#[test]
fn links_to_devices_and_linked_folders_are_never_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero")).unwrap();
    let outside = tmp.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("x.yaml"), "x").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("linked")).unwrap();
    list(&dir, &[("zero", b""), ("linked/x.yaml", b"x")]);
    assert_eq!(problem_of(&dir, "zero"), Some(Problem::Symlink));
    assert_eq!(problem_of(&dir, "linked/x.yaml"), Some(Problem::Symlink));
}

#[cfg(unix)]
#[test]
fn a_listed_fifo_is_reported_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success());
    if !matches!(made, Ok(true)) {
        eprintln!("skipping: mkfifo is not available");
        return;
    }
    list(&dir, &[("pipe", b"")]);
    assert_eq!(problem_of(&dir, "pipe"), Some(Problem::NotAFile));
}

#[test]
fn absolute_and_climbing_entries_are_findings_not_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    list(&dir, &[("/etc/hostname", b""), ("../b/deploy.sh", b"")]);
    assert_eq!(problem_of(&dir, "/etc/hostname"), Some(Problem::UnsafePath));
    assert_eq!(
        problem_of(&dir, "../b/deploy.sh"),
        Some(Problem::UnsafePath)
    );
}

/// The UNAUTHORIZED verdict of a bundle whose checksums.txt is broken:
/// a report at trust level unknown, not an early error.
fn broken(dir: &Path) -> aicr_core::Error {
    let report = verify_dir(dir, None).unwrap();
    assert!(!report.checksums_passed);
    assert_eq!(report.trust_level, aicr_bundle::TrustLevel::Unknown);
    report.into_result(None).unwrap_err()
}

#[test]
fn a_broken_checksums_file_is_unauthorized_with_a_bounded_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    let sums = dir.join("checksums.txt");

    std::fs::write(&sums, b"\xff\xfe not text").unwrap();
    let err = broken(&dir);
    assert_eq!(err.code(), Code::Unauthorized, "{err}");

    std::fs::write(&sums, "not a checksum line\n".repeat(100_000)).unwrap();
    let err = broken(&dir);
    assert_eq!(err.code(), Code::Unauthorized, "{err}");
    assert!(err.to_string().len() < 500, "{}", err.to_string().len());
    assert!(err.to_string().contains("more"), "{err}");

    std::fs::remove_file(&sums).unwrap();
    std::fs::create_dir(&sums).unwrap();
    let err = broken(&dir);
    assert_eq!(err.code(), Code::Unauthorized, "{err}");
}

#[test]
fn many_findings_are_listed_up_to_a_bound_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    bundle(&dir);
    for i in 0..50 {
        std::fs::write(dir.join(format!("extra-{i}.txt")), "x").unwrap();
    }
    let err = verify_dir(&dir, None)
        .unwrap()
        .into_result(None)
        .unwrap_err();
    assert!(err.to_string().contains("and 40 more"), "{err}");
}

mod trust {
    use super::*;
    use aicr_bundle::attest::{self, SigningKey};
    use aicr_bundle::{Policy, Provenance, TrustLevel};

    fn key(seed: u8) -> SigningKey {
        SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    fn signed_bundle(dir: &Path) {
        let mut tree = FileTree::new();
        tree.insert("001-a/values.yaml", "a: 1\n");
        aicr_bundle::checksum::add_checksums(&mut tree);
        let provenance = Provenance {
            tool_version: "0.8.1".into(),
            ..Provenance::default()
        };
        attest::attest(&mut tree, &provenance, &key(1)).unwrap();
        write_tree(&tree, dir, false).unwrap();
    }

    fn policy(min: &str) -> Policy {
        Policy::parse(min, None, None).unwrap()
    }

    #[test]
    fn levels_follow_what_was_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let (plain, signed) = (tmp.path().join("p"), tmp.path().join("s"));
        bundle(&plain);
        signed_bundle(&signed);
        let right = key(1).public_key();

        let r = verify_dir(&plain, Some(&right)).unwrap();
        assert_eq!(r.trust_level, TrustLevel::Unverified);
        assert_eq!(r.check_policy(&policy("max")).unwrap(), None);
        assert!(r.check_policy(&policy("attested")).unwrap().is_some());

        let r = verify_dir(&signed, Some(&right)).unwrap();
        assert!(
            r.findings.is_empty(),
            "the attestation is not an extra file"
        );
        assert_eq!(r.trust_level, TrustLevel::Attested);
        assert_eq!(r.bundle_creator, right.hint());
        assert_eq!(r.tool_version.as_deref(), Some("0.8.1"));
        assert_eq!(r.check_policy(&policy("max")).unwrap(), None);
        assert!(r.check_policy(&policy("verified")).unwrap().is_some());
        let version = |c: &str| Policy::parse("max", None, Some(c)).unwrap();
        assert_eq!(r.check_policy(&version("0.8.0")).unwrap(), None);
        assert!(r.check_policy(&version("> 0.8.1")).unwrap().is_some());
        let creator = |c: &str| Policy::parse("max", Some(c), None).unwrap();
        assert_eq!(r.check_policy(&creator(&right.hint())).unwrap(), None);
        assert!(r.check_policy(&creator("someone")).unwrap().is_some());

        // Present but unchecked: not a pass under max.
        let r = verify_dir(&signed, None).unwrap();
        assert_eq!(r.trust_level, TrustLevel::Unverified);
        assert!(
            r.trust_reason.contains("--public-key"),
            "{}",
            r.trust_reason
        );
        assert!(r.check_policy(&policy("max")).unwrap().is_some());
        assert_eq!(r.check_policy(&policy("unverified")).unwrap(), None);

        let r = verify_dir(&signed, Some(&key(2).public_key())).unwrap();
        assert_eq!(r.trust_level, TrustLevel::Unknown);
        let err = r.into_result(None).unwrap_err();
        assert_eq!(err.code(), Code::Unauthorized, "{err}");
    }

    #[test]
    fn bad_policy_values_are_invalid_requests() {
        for (min, version) in [("trusted", None), ("max", Some(">= ")), ("max", Some(">"))] {
            let err = Policy::parse(min, None, version).unwrap_err();
            assert_eq!(err.code(), Code::InvalidRequest, "{err}");
        }
        assert_eq!(
            Policy::parse(" Attested ", None, None)
                .unwrap()
                .min_trust_level,
            Some(TrustLevel::Attested)
        );
    }
}

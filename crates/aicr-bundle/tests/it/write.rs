//! Atomic writing and verification.

use aicr_bundle::{FileTree, verify_dir, write_tree};
use aicr_core::Code;

fn sample() -> FileTree {
    let mut tree = FileTree::new();
    tree.insert("001-a/values.yaml", "a: 1\n");
    tree.insert_executable("deploy.sh", "#!/usr/bin/env bash\n");
    aicr_bundle::checksum::add_checksums(&mut tree);
    tree
}

#[test]
fn a_written_bundle_verifies_and_tampering_is_unauthorized() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    write_tree(&sample(), &dir, false).unwrap();
    assert!(verify_dir(&dir, None).unwrap().is_valid());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("deploy.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    std::fs::write(dir.join("001-a/values.yaml"), "a: 2\n").unwrap();
    let report = verify_dir(&dir, None).unwrap();
    assert_eq!(report.findings.len(), 1);
    let err = report.into_result(None).unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized);
    assert_eq!(err.exit_status(), 4);
}

#[test]
fn a_foreign_directory_needs_force_and_is_then_replaced_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), "mine").unwrap();
    let err = write_tree(&sample(), &dir, false).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest);
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.txt")).unwrap(),
        "mine"
    );
    write_tree(&sample(), &dir, true).unwrap();
    assert!(
        !dir.join("mine.txt").exists(),
        "--force replaces the directory"
    );
    assert!(verify_dir(&dir, None).unwrap().is_valid());
    // Only the bundle: no temporary siblings.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn a_directory_listed_with_sha256sum_is_not_a_previous_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), "years of work").unwrap();
    let sum = aicr_bundle::checksum::sha256_hex(b"years of work");
    std::fs::write(dir.join("checksums.txt"), format!("{sum}  thesis.tex\n")).unwrap();
    let err = write_tree(&sample(), &dir, false).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert!(dir.join("thesis.tex").is_file());
}

#[test]
fn an_edited_bundle_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    write_tree(&sample(), &dir, false).unwrap();
    write_tree(&sample(), &dir, false).unwrap();
    std::fs::write(dir.join("notes.txt"), "added by hand").unwrap();
    let err = write_tree(&sample(), &dir, false).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert!(dir.join("notes.txt").is_file());
}

#[test]
fn rewriting_a_bundle_drops_stale_numbered_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let mut old = FileTree::new();
    old.insert("002-old/values.yaml", "x: 1\n");
    aicr_bundle::checksum::add_checksums(&mut old);
    write_tree(&old, &dir, false).unwrap();
    write_tree(&sample(), &dir, false).unwrap();
    assert!(!dir.join("002-old").exists());
    assert!(verify_dir(&dir, None).unwrap().is_valid());
}

#[test]
fn a_destination_below_or_at_a_file_is_the_users_mistake_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = write_tree(&sample(), &file.join("b"), false).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest);
    let err = write_tree(&sample(), &file, false).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

mod write_file {
    use aicr_bundle::write_file;
    use aicr_core::Code;

    #[test]
    fn a_symlink_is_kept_and_its_target_written() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("real.yaml");
        std::fs::write(&target, "old").unwrap();
        let link = tmp.path().join("link.yaml");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&target, &link).unwrap();
            write_file(&link, b"new").unwrap();
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(std::fs::read(&target).unwrap(), b"new");
        }
    }

    /// In a shared directory someone may plant links at the temporary
    /// names; writing must never go through one.
    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_a_temporary_name_is_never_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        // Every name the writer could try in this process: more than it
        // will ever have used by now plus the 100 it tries.
        for n in 0..2_000 {
            let name = format!(".aicr-{}-{n}.tmp", std::process::id());
            std::os::unix::fs::symlink(&victim, shared.join(name)).unwrap();
        }
        let _ = write_file(&shared.join("out.yaml"), b"new");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn special_files_are_written_through_not_replaced() {
        let null = std::path::Path::new("/dev/null");
        if !null.exists() {
            return;
        }
        write_file(null, b"discarded").unwrap();
        let meta = std::fs::metadata(null).unwrap();
        assert!(!meta.is_file(), "/dev/null is still a device");
    }

    #[test]
    fn wrong_paths_are_the_users_mistake() {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_file(tmp.path(), b"x").unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest, "{err}");
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let err = write_file(&file.join("under"), b"x").unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest, "{err}");
        let err = write_file(&tmp.path().join("no/such/dir/x"), b"x").unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err}");
    }

    #[test]
    fn names_of_255_bytes_work_and_leave_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("n".repeat(255));
        write_file(&path, b"x").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}

#[cfg(unix)]
#[test]
fn force_never_reads_a_link_target_into_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(tmp.path().join("secret"), "s").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret"), dir.join("link")).unwrap();
    let err = write_tree(&sample(), &dir, true).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert!(
        std::fs::symlink_metadata(dir.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        2,
        "no temporary left"
    );
}

#[test]
fn bundle_directories_with_255_byte_names_work_and_leave_no_sibling() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b".repeat(255));
    write_tree(&sample(), &dir, false).unwrap();
    write_tree(&sample(), &dir, false).unwrap();
    assert!(verify_dir(&dir, None).unwrap().is_valid());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

/// Makes `file` impossible to unlink: a read-only parent directory for an
/// ordinary user, the immutable attribute for root (which ignores modes).
/// Returns an undo closure, or None when this machine offers neither.
#[cfg(unix)]
fn pin(file: &std::path::Path) -> Option<Box<dyn Fn()>> {
    use std::os::unix::fs::PermissionsExt;
    let parent = file.parent().unwrap().to_path_buf();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = parent.join("probe");
    if std::fs::write(&probe, "").is_err() {
        let undo = parent.clone();
        return Some(Box::new(move || {
            std::fs::set_permissions(&undo, std::fs::Permissions::from_mode(0o755)).unwrap();
        }));
    }
    // Root: modes do not stop us.
    std::fs::remove_file(&probe).unwrap();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let chattr = |flag: &str, path: &std::path::Path| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !chattr("+i", file) {
        return None;
    }
    let file = file.to_path_buf();
    Some(Box::new(move || assert!(chattr("-i", &file))))
}

#[cfg(unix)]
#[test]
fn a_previous_bundle_that_cannot_be_removed_fails_the_run_and_leaves_no_sibling() {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = tmp.path().join("b");
    write_tree(&sample(), &dir, false).unwrap();
    let Some(undo) = pin(&dir.join("001-a/values.yaml")) else {
        eprintln!("skipped: neither directory modes nor chattr can pin a file here");
        return;
    };
    let mut changed = sample();
    changed.insert("002-b/values.yaml", "b: 1\n");
    aicr_bundle::checksum::add_checksums(&mut changed);
    let result = write_tree(&changed, &dir, false);
    undo();
    let err = result.unwrap_err();
    assert_eq!(err.code(), Code::Conflict, "{err}");
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["b"], "no .aicr-old-* or .aicr-tmp-* left");
    assert!(
        !dir.join("002-b").exists(),
        "nothing of the failed run is kept"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("001-a/values.yaml")).unwrap(),
        "a: 1\n"
    );
}

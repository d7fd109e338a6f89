//! Writing a bundle to disk atomically: the tree is built in a temporary
//! sibling directory and renamed into place, so a failure leaves the
//! destination as it was.

// This is the atomic writer: the one module that renames temporaries into
// place (clippy.toml refuses `std::fs::rename` everywhere else).
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use aicr_core::error::{Error, Result};

use crate::tree::FileTree;

/// The file every bundle directory we write carries at its root (not
/// listed in `checksums.txt`; `verify` knows it): with a `checksums.txt`
/// that matches the directory, it is what makes a directory "a previous
/// bundle" that may be replaced without `--force`.
pub const MARKER_FILE: &str = ".aicr-bundle";

pub(crate) const MARKER_TEXT: &str =
    "This directory is a bundle written by aicr; aicr bundle may replace it.\n";

/// Writes `tree` to `dir`, replacing the directory as a whole: the new
/// tree is built in a sibling and renamed into place, and the old contents
/// are removed only after that.
///
/// * A missing `dir` is created; an empty one is filled.
/// * A previous bundle (our marker file, and a `checksums.txt` that matches
///   every file) is replaced.
/// * Any other non-empty directory (a `checksums.txt` made with
///   `sha256sum`, a bundle someone edited) is refused unless `force` is
///   set; with `force` it is replaced as a whole. A directory holding a
///   symbolic link or special file is refused either way.
pub fn write_tree(tree: &FileTree, dir: &Path, force: bool) -> Result<()> {
    let existing = inspect(dir)?;
    if existing == Existing::Foreign && !force {
        return Err(Error::invalid(format!(
            "output directory {} exists, is not empty and is not an unchanged AICR bundle; use --force to replace it",
            aicr_core::error::escape(&dir.display().to_string())
        )));
    }
    if existing != Existing::Missing {
        refuse_links_and_special_files(dir)?;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.file_name().is_none() {
        return Err(Error::invalid(format!(
            "output path {} names no directory",
            dir.display()
        )));
    }
    // Short fixed-length sibling names (a 255-byte directory name must
    // work), unique within the process.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("{}-{n}", std::process::id());
    let tmp = parent.join(format!(".aicr-tmp-{id}"));
    let old = parent.join(format!(".aicr-old-{id}"));
    let shown = aicr_core::error::escape(&dir.display().to_string());
    let fail = |what: &str, e: io::Error| {
        Error::internal(format!("writing bundle to {shown}: {what}")).with_source(e)
    };
    let result = (|| {
        fs::create_dir(&tmp).map_err(|e| fail("creating a temporary directory", e))?;
        write_files(tree, &tmp).map_err(|e| fail("writing files", e))?;
        fs::write(tmp.join(MARKER_FILE), MARKER_TEXT).map_err(|e| fail("writing files", e))?;
        swap(dir, &tmp, &old, &shown)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Writes one file without ever leaving it half-written or replacing
/// something that is not a regular file:
///
/// * a regular file (or a new name) gets the bytes through a temporary
///   sibling renamed over it;
/// * a symbolic link is kept: its target is written that way instead;
/// * a FIFO or device (`-o /dev/null`, `-o /dev/stdout`) is written
///   through, never replaced;
/// * a directory is refused (INVALID_REQUEST).
///
/// A missing parent directory is NOT_FOUND and a parent that is a file
/// INVALID_REQUEST: mistakes in the path, not failures of the tool.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let shown = aicr_core::error::escape(&path.display().to_string());
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            link_target(path).map_err(|e| output_error(&shown, "resolving the link", e))?
        }
        Ok(meta) if meta.is_dir() => {
            return Err(Error::invalid(format!(
                "output path {shown} is a directory; name a file"
            )));
        }
        Ok(meta) if !meta.is_file() => {
            // A FIFO, socket or device: write through it.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| output_error(&shown, "opening", e))?;
            return io::Write::write_all(&mut file, bytes)
                .map_err(|e| output_error(&shown, "writing", e));
        }
        _ => path.to_path_buf(),
    };
    if target.is_dir() {
        return Err(Error::invalid(format!(
            "output path {shown} leads to a directory; name a file"
        )));
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (tmp, mut file) = create_sibling(&parent)
        .map_err(|e| output_error(&shown, "creating a temporary file", e))?;
    let result = io::Write::write_all(&mut file, bytes)
        .map_err(|e| output_error(&shown, "writing", e))
        .and_then(|()| fs::rename(&tmp, &target).map_err(|e| output_error(&shown, "renaming", e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A new temporary file in `parent`, created exclusively (`O_EXCL`): a
/// name that already exists, a planted symbolic link included, is never
/// opened, so nothing is written through it. Short, fixed-length names
/// (an output name of 255 bytes must still work), unique within the
/// process; a taken name moves on to the next.
fn create_sibling(parent: &Path) -> io::Result<(PathBuf, fs::File)> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for _ in 0..100 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = parent.join(format!(".aicr-{}-{n}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "every temporary name tried is taken",
    ))
}

/// Where the link at `path` finally points (followed to the end when the
/// target exists; one level when it dangles, so the file is created).
fn link_target(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(resolved) => Ok(resolved),
        Err(_) => {
            let target = fs::read_link(path)?;
            Ok(match path.parent() {
                Some(parent) if target.is_relative() => parent.join(target),
                _ => target,
            })
        }
    }
}

/// Maps a failure to write an output to a status: a wrong path is the
/// user's (NOT_FOUND, INVALID_REQUEST), anything else INTERNAL.
fn output_error(shown: &str, what: &str, e: io::Error) -> Error {
    let code = match e.kind() {
        io::ErrorKind::NotFound => aicr_core::Code::NotFound,
        io::ErrorKind::NotADirectory
        | io::ErrorKind::IsADirectory
        | io::ErrorKind::PermissionDenied
        | io::ErrorKind::ReadOnlyFilesystem
        | io::ErrorKind::InvalidFilename => aicr_core::Code::InvalidRequest,
        _ => aicr_core::Code::Internal,
    };
    Error::new(code, format!("{what} output {shown}")).with_source(e)
}

/// A directory we replace must hold only regular files and folders: a
/// link's target or a FIFO is never read into the new bundle.
fn refuse_links_and_special_files(dir: &Path) -> Result<()> {
    let mut entries = std::collections::BTreeMap::new();
    crate::verify::walk(dir, "", &mut entries)
        .map_err(|e| Error::internal(format!("reading {}", dir.display())).with_source(e))?;
    let odd: Vec<String> = entries
        .iter()
        .filter(|(_, k)| {
            matches!(
                k,
                crate::verify::Kind::Symlink | crate::verify::Kind::Special
            )
        })
        .map(|(p, _)| aicr_core::error::escape(p))
        .collect();
    if odd.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "output directory {} holds symbolic links or special files ({}{}); remove them or write the bundle elsewhere",
        aicr_core::error::escape(&dir.display().to_string()),
        odd.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if odd.len() > 5 {
            format!(" and {} more", odd.len() - 5)
        } else {
            String::new()
        }
    )))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Existing {
    Missing,
    Empty,
    Bundle,
    Foreign,
}

fn inspect(dir: &Path) -> Result<Existing> {
    let shown = aicr_core::error::escape(&dir.display().to_string());
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Existing::Missing),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(Error::invalid(format!(
            "output path {shown} is below a file, not a directory"
        ))),
        Err(e) => Err(Error::internal(format!("reading {shown}")).with_source(e)),
        Ok(meta) if !meta.is_dir() => Err(Error::invalid(format!(
            "output path {shown} exists and is not a directory"
        ))),
        Ok(_) => {
            let mut entries = fs::read_dir(dir)
                .map_err(|e| Error::internal(format!("reading {shown}")).with_source(e))?;
            if entries.next().is_none() {
                Ok(Existing::Empty)
            } else if is_previous_bundle(dir) {
                Ok(Existing::Bundle)
            } else {
                Ok(Existing::Foreign)
            }
        }
    }
}

/// Our marker is a regular file and `checksums.txt` matches every file.
fn is_previous_bundle(dir: &Path) -> bool {
    let marked = fs::symlink_metadata(dir.join(MARKER_FILE)).is_ok_and(|m| m.is_file());
    marked && crate::verify::verify_dir(dir, None).is_ok_and(|r| r.is_valid())
}

fn write_files(tree: &FileTree, root: &Path) -> io::Result<()> {
    // Trees are sorted by path, so a folder's files arrive together: only
    // create a directory when the parent changes.
    let mut made: Option<std::path::PathBuf> = None;
    for (path, file) in tree.iter() {
        let target = root.join(path);
        if let Some(parent) = target.parent()
            && made.as_deref() != Some(parent)
        {
            fs::create_dir_all(parent)?;
            made = Some(parent.to_path_buf());
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if file.executable { 0o755 } else { 0o644 });
        }
        let mut out = options.open(&target)?;
        io::Write::write_all(&mut out, &file.bytes)?;
        // Scripts must be executable whatever the umask says (through the
        // open file: no second path lookup).
        #[cfg(unix)]
        if file.executable {
            use std::os::unix::fs::PermissionsExt;
            out.set_permissions(fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// Renames `tmp` to `dir`, moving an existing `dir` aside to `old` first
/// and removing it only once the new one is in place. Losing a race to
/// another writer is CONFLICT, and nothing of this run is kept; a previous
/// bundle that cannot be removed afterwards is an error, never a silent
/// leftover.
fn swap(dir: &Path, tmp: &Path, old: &Path, shown: &str) -> Result<()> {
    let raced = |e: io::Error| {
        Error::new(
            aicr_core::Code::Conflict,
            format!("another writer changed {shown} at the same time; this run kept nothing"),
        )
        .with_source(e)
    };
    if fs::symlink_metadata(dir).is_err() {
        return fs::rename(tmp, dir).map_err(raced);
    }
    fs::rename(dir, old).map_err(raced)?;
    if let Err(e) = fs::rename(tmp, dir) {
        if fs::rename(old, dir).is_err() {
            // Someone else's directory is at `dir` now; ours goes.
            let _ = fs::remove_dir_all(old);
        }
        return Err(raced(e));
    }
    let Err(e) = fs::remove_dir_all(old) else {
        return Ok(());
    };
    // The previous bundle cannot be removed (an immutable file, a
    // directory we may not write, a mount point inside it). Put back what
    // is left of it and drop ours, so that no `.aicr-old-*` stays behind
    // and the command fails instead of leaving two trees.
    let restored = fs::rename(dir, tmp).is_ok() && fs::rename(old, dir).is_ok();
    let _ = fs::remove_dir_all(tmp);
    if restored {
        Err(Error::new(
            aicr_core::Code::Conflict,
            format!(
                "the previous bundle in {shown} could not be removed, so it was left in place (possibly in part) and this run kept nothing; fix its permissions or remove it by hand"
            ),
        )
        .with_source(e))
    } else {
        Err(Error::internal(format!(
            "the previous bundle in {shown} could not be removed and is left at {}; remove it by hand",
            aicr_core::error::escape(&old.display().to_string())
        ))
        .with_source(e))
    }
}

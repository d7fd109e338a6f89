//! The OS measurement's sources (the reference's non-Talos backend) as
//! pure functions: the kernel command line (`grub`), `/proc/modules`
//! (`kmod`), `os-release` (`release`), and a walk of `/proc/sys`
//! (`sysctl`). Directories are parameters, so tests point them at a
//! temporary tree and the agent at the host's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aicr_core::error::escape;
use aicr_core::snapshot::{Measurement, MeasurementType, Reading, Subtype};
use aicr_core::{Code, Error, Result};

use crate::run::{BoxFuture, Collected, Host, Options, blocking, status};
use crate::source::{key_value, parts, read_text};
use crate::subtype;

/// Name of the subtype read from `/proc/cmdline`.
pub const GRUB: &str = "grub";
/// Name of the subtype read from `/proc/sys`.
pub const SYSCTL: &str = "sysctl";
/// Name of the subtype read from `/proc/modules`.
pub const KMOD: &str = "kmod";
/// Name of the subtype read from `os-release`.
pub const RELEASE: &str = "release";

/// The `grub` subtype of a kernel command line (`/proc/cmdline`).
///
/// Parameters are split on single spaces (quotes are not understood, as
/// in the reference), each at its first `=`: `ro` reads `""`, `a=b=c`
/// reads `a: "b=c"`, a repeated key keeps its last value. `root` (exactly)
/// is left out: it names a disk, not a setting.
pub fn grub_subtype(cmdline: &str) -> Subtype {
    let mut data: BTreeMap<String, Reading> = parts(cmdline, ' ')
        .map(key_value)
        .map(|(key, value)| (key.to_string(), Reading::from(value)))
        .collect();
    data.remove("root");
    subtype(GRUB, data)
}

/// The names of the modules in `/proc/modules` text: the first field of
/// each line.
pub(crate) fn loaded_modules(proc_modules: &str) -> impl Iterator<Item = &str> {
    parts(proc_modules, '\n').filter_map(|line| line.split_whitespace().next())
}

/// The `kmod` subtype of `/proc/modules`: each loaded module → `true`.
pub fn kmod_subtype(proc_modules: &str) -> Subtype {
    let data = loaded_modules(proc_modules)
        .map(|name| (name.to_string(), Reading::Bool(true)))
        .collect();
    subtype(KMOD, data)
}

/// The `release` subtype of an `os-release` file.
///
/// `KEY=value` lines; a value is trimmed and then stripped of any `"` and
/// `'` at either end (not pair-aware, no escapes, as in the reference).
/// Comments, lines without `=` and keys whose value is empty are left out.
pub fn release_subtype(os_release: &str) -> Subtype {
    let data = parts(os_release, '\n')
        .map(key_value)
        .map(|(key, value)| (key, value.trim_matches(['"', '\''])))
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key.to_string(), Reading::from(value)))
        .collect();
    subtype(RELEASE, data)
}

/// The `release` subtype of `<root>/etc/os-release`, or of
/// `<root>/usr/lib/os-release` when the first does not exist (the
/// freedesktop.org rule the reference follows).
///
/// Neither existing is NOT_FOUND (the reference then leaves the subtype
/// out); a file that cannot be read is the error of
/// [`read_text`]. Links are followed as the system
/// resolves them, so with a `root` other than `/` an absolute link points
/// outside it.
pub fn read_release(root: &Path) -> Result<Subtype> {
    let primary = root.join("etc/os-release");
    let path = match std::fs::metadata(&primary) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => root.join("usr/lib/os-release"),
        _ => primary.clone(),
    };
    match read_text(&path) {
        Err(e) if e.code() == Code::NotFound && path != primary => Err(Error::not_found(format!(
            "neither {} nor {} exists",
            escape(&primary.display().to_string()),
            escape(&path.display().to_string())
        ))),
        result => Ok(release_subtype(&result?)),
    }
}

/// Where the walk of `/proc/sys` gives up descending; the real tree is
/// about six levels deep.
const MAX_SYSCTL_DEPTH: usize = 32;

/// The `sysctl` subtype of a `/proc/sys` tree at `proc_sys`.
///
/// Keys are the files' paths as `/proc/sys/...` (whatever `proc_sys` is)
/// and values their text, as the reference reads them:
/// - lines are trimmed and blank or `#` lines dropped; one line (or none,
///   giving `""`) is the value as it is, inner whitespace included;
/// - two or more lines that all have at least two whitespace-separated
///   fields become one key per line, `<path>/<first field>`, valued the
///   other fields joined by single spaces (`sunrpc/transports`);
/// - other lines are joined with `\n`.
///
/// Paths starting with `/proc/sys/net` and keys under `/proc/sys/dev/cdrom/`
/// are left out. Symbolic links, special files, files that cannot be read
/// (write-only, over 1 MiB, not UTF-8) and directories that cannot be
/// listed are skipped, so the walk never leaves the tree and never blocks
/// on a FIFO. Only `proc_sys` itself failing to list is an error.
pub fn read_sysctl(proc_sys: &Path) -> Result<Subtype> {
    let entries = sorted_entries(proc_sys).map_err(|e| {
        let code = match e.kind() {
            std::io::ErrorKind::NotFound => Code::NotFound,
            _ => Code::Internal,
        };
        let shown = escape(&proc_sys.display().to_string());
        Error::new(code, format!("cannot list {shown}")).with_source(e)
    })?;
    let mut data = BTreeMap::new();
    walk_sysctl(entries, "/proc/sys", 0, &mut data);
    data.retain(|key, _| !key.starts_with("/proc/sys/dev/cdrom/"));
    Ok(subtype(SYSCTL, data))
}

/// A directory's entries, sorted by name (the reference walks in lexical
/// order). Names that are not UTF-8 cannot be keys and are skipped.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<(String, std::fs::DirEntry)>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            Some((entry.file_name().into_string().ok()?, entry))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn walk_sysctl(
    entries: Vec<(String, std::fs::DirEntry)>,
    key: &str,
    depth: usize,
    data: &mut BTreeMap<String, Reading>,
) {
    for (name, entry) in entries {
        let key = format!("{key}/{name}");
        if key.starts_with("/proc/sys/net") {
            continue;
        }
        // `DirEntry::file_type` does not follow links.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path: PathBuf = entry.path();
        if kind.is_dir() && depth < MAX_SYSCTL_DEPTH {
            if let Ok(children) = sorted_entries(&path) {
                walk_sysctl(children, &key, depth + 1, data);
            }
        } else if kind.is_file()
            && let Ok(text) = read_text(&path)
        {
            add_sysctl(key, &text, data);
        }
    }
}

/// The readings of one `/proc/sys` file.
fn add_sysctl(key: String, text: &str, data: &mut BTreeMap<String, Reading>) {
    let lines: Vec<&str> = parts(text, '\n').collect();
    let pairs: Option<Vec<(&str, String)>> = lines
        .iter()
        .map(|line| {
            let mut fields = line.split_whitespace();
            let first = fields.next()?;
            let rest: Vec<&str> = fields.collect();
            (!rest.is_empty()).then(|| (first, rest.join(" ")))
        })
        .collect();
    match pairs {
        Some(pairs) if lines.len() > 1 => {
            for (field, value) in pairs {
                data.insert(format!("{key}/{field}"), Reading::Str(value));
            }
        }
        _ => {
            data.insert(key, Reading::Str(lines.join("\n")));
        }
    }
}

/// The OS collector: on Talos, what the Node object says; elsewhere
/// `grub`, `sysctl`, `kmod` and `release`, read in that order from the
/// host's files. A file that does
/// not exist makes its subtype absent; one that exists but cannot be read
/// fails the snapshot.
pub struct Collector;

/// Reads one source of a host.
type Read = fn(&Host) -> Result<Subtype>;

/// The OS sources, in the reference's order.
const SOURCES: [(&str, Read); 4] = [
    ("OS/grub", |host| {
        Ok(grub_subtype(&read_text(&host.path("/proc/cmdline"))?))
    }),
    ("OS/sysctl", |host| read_sysctl(&host.path("/proc/sys"))),
    ("OS/kmod", |host| {
        Ok(kmod_subtype(&read_text(&host.path("/proc/modules"))?))
    }),
    ("OS/release", |host| read_release(host.root())),
];

impl crate::run::Collector for Collector {
    fn kind(&self) -> MeasurementType {
        MeasurementType::Os
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn collect(&self, options: Arc<Options>) -> BoxFuture<Result<Collected>> {
        if options.os == aicr_core::criteria::Os::Talos {
            return Box::pin(async move { crate::cluster_collectors::talos_os(&options).await });
        }
        Box::pin(blocking(move || {
            let mut subtypes = Vec::new();
            let mut sources = Vec::new();
            for (source, read) in SOURCES {
                let (subtype, source_status) = status(source, read(&options.host))?;
                subtypes.extend(subtype);
                sources.push(source_status);
            }
            Ok(Collected {
                measurement: Measurement {
                    kind: MeasurementType::Os,
                    subtypes,
                },
                sources,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysctl_of(text: &str) -> BTreeMap<String, Reading> {
        let mut data = BTreeMap::new();
        add_sysctl("/proc/sys/x".into(), text, &mut data);
        data
    }

    #[test]
    fn one_line_is_kept_as_it_is_and_an_empty_file_reads_empty() {
        assert_eq!(
            sysctl_of("4\t4  1 7\n")["/proc/sys/x"],
            Reading::from("4\t4  1 7")
        );
        assert_eq!(sysctl_of("\n  \n")["/proc/sys/x"], Reading::from(""));
    }

    #[test]
    fn lines_of_pairs_split_into_keys_and_others_join() {
        let split = sysctl_of("a 1  2\nb 3\n");
        assert_eq!(split.len(), 2);
        assert_eq!(split["/proc/sys/x/a"], Reading::from("1 2"));
        let joined = sysctl_of("a 1\nb\n");
        assert_eq!(joined["/proc/sys/x"], Reading::from("a 1\nb"));
    }

    #[test]
    fn a_single_pair_line_is_not_split() {
        assert_eq!(
            sysctl_of("tcp 1048576")["/proc/sys/x"],
            Reading::from("tcp 1048576")
        );
    }
}

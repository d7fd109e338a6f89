//! Where documents come from and go to: input sources and output targets,
//! parsed from their URI forms in one place, with size caps. Local reads
//! and writes are synchronous; network reads are async (see [`crate::http`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use aicr_core::{Code, Error, Result};

/// Largest document we read from any input: the reference's 1 MiB limit
/// (it truncates silently; we refuse).
pub const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;

/// A document source: `-` (stdin), a local path, an `http(s)://` URL, or
/// `cm://namespace/name` (read through a [`crate::Client`]) and `oci://`
/// references (bundles only, through [`crate::Client::pull_bundle`]; a
/// document is not read from one yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, named explicitly with `-`.
    Stdin,
    /// A local file.
    File(PathBuf),
    /// An `http://` or `https://` URL.
    Http(String),
    /// A Kubernetes ConfigMap.
    ConfigMap {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// An OCI artifact reference (`oci://registry/repo[:tag]`).
    Oci(String),
}

impl Input {
    /// Parses a source as written on a command line or in a config file.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid("an input source must not be empty"));
        }
        if text == "-" {
            return Ok(Input::Stdin);
        }
        if text.starts_with("http://") || text.starts_with("https://") {
            return Ok(Input::Http(text.to_string()));
        }
        if let Some(rest) = text.strip_prefix("cm://") {
            let (namespace, name) = parse_configmap(rest, text)?;
            return Ok(Input::ConfigMap { namespace, name });
        }
        if text.starts_with("oci://") {
            return Ok(Input::Oci(text.to_string()));
        }
        if text.starts_with("file://") {
            return Err(Error::invalid(format!(
                "{}: file:// URLs are not accepted; pass the path itself",
                aicr_core::error::escape(text)
            )));
        }
        Ok(Input::File(PathBuf::from(text)))
    }

    /// The source as a user wrote it, for messages (control characters
    /// escaped).
    pub fn describe(&self) -> String {
        let raw = match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
            Input::Http(url) | Input::Oci(url) => url.clone(),
            Input::ConfigMap { namespace, name } => format!("cm://{namespace}/{name}"),
        };
        aicr_core::error::escape(&raw)
    }

    /// Whether reading this source needs the network (and so a runtime).
    pub fn is_remote(&self) -> bool {
        matches!(
            self,
            Input::Http(_) | Input::ConfigMap { .. } | Input::Oci(_)
        )
    }

    /// Whether the document should be decoded as JSON (a `.json` path or
    /// URL, query and fragment ignored); everything else is YAML, which
    /// also reads JSON.
    pub fn is_json(&self) -> bool {
        let text = match self {
            Input::File(p) => p.to_string_lossy().into_owned(),
            Input::Http(url) => url.split(['?', '#']).next().unwrap_or("").to_string(),
            _ => return false,
        };
        text.ends_with(".json")
    }

    /// Reads the whole document, at most `limit` bytes: local sources
    /// directly, remote ones through the async HTTP client.
    pub async fn read(&self, limit: u64) -> Result<Vec<u8>> {
        match self {
            Input::Http(url) => crate::http::get(url, limit).await,
            _ => self.read_local(limit),
        }
    }

    /// [`Input::read`] for synchronous callers: a runtime is started only
    /// when the source is remote.
    pub fn read_blocking(&self, limit: u64) -> Result<Vec<u8>> {
        if matches!(self, Input::Http(_)) {
            crate::block_on(self.read(limit))
        } else {
            self.read_local(limit)
        }
    }

    fn read_local(&self, limit: u64) -> Result<Vec<u8>> {
        match self {
            Input::Stdin => read_capped(std::io::stdin().lock(), limit, "standard input"),
            Input::File(path) => read_file(path, limit),
            Input::ConfigMap { .. } => Err(Error::internal(format!(
                "{}: a ConfigMap is read through a Client, which holds the cluster connection",
                self.describe()
            ))),
            Input::Oci(_) => Err(Error::invalid(format!(
                "{}: a recipe or snapshot is not read from an OCI registry (not supported yet); bundles are pulled with `aicr pull`: pass the file",
                self.describe()
            ))),
            Input::Http(_) => Err(Error::internal(format!(
                "{}: an HTTP source is read with Input::read",
                self.describe()
            ))),
        }
    }
}

/// Splits `namespace/name` of a `cm://` URI; both parts must be non-empty.
fn parse_configmap(rest: &str, whole: &str) -> Result<(String, String)> {
    match rest.split_once('/') {
        Some((ns, name)) if !ns.trim().is_empty() && !name.trim().is_empty() => {
            Ok((ns.trim().to_string(), name.trim().to_string()))
        }
        _ => Err(Error::invalid(format!(
            "{}: expected cm://namespace/name",
            aicr_core::error::escape(whole)
        ))),
    }
}

/// Reads a regular file of at most `limit` bytes. A missing file is
/// NOT_FOUND; a directory, FIFO or device is INVALID_REQUEST (reading one
/// could block forever or never end).
pub(crate) fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let shown = aicr_core::error::escape(&path.display().to_string());
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(format!("file {shown} not found")),
        _ => Error::invalid(format!("cannot read {shown}")).with_source(e),
    })?;
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "{shown} is not a regular file; pass a file, or - for standard input"
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::invalid(format!("cannot read {shown}")).with_source(e))?;
    read_capped(file, limit, &shown)
}

/// Reads `reader` to the end, refusing more than `limit` bytes.
fn read_capped(reader: impl Read, limit: u64, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::invalid(format!("cannot read {what}")).with_source(e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(what, limit));
    }
    Ok(bytes)
}

/// The error for a document over its size cap.
pub(crate) fn too_large(what: &str, limit: u64) -> Error {
    Error::new(
        Code::InvalidRequest,
        format!("{what} is larger than the {limit}-byte limit"),
    )
}

/// Where a document goes: stdout (empty or `-`), a local file (written
/// atomically), a ConfigMap (written through a [`crate::Client`]) or an
/// OCI reference (bundles only, see [`crate::BundleTarget`]; a document is
/// not written to one yet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    /// Standard output.
    #[default]
    Stdout,
    /// A local file.
    File(PathBuf),
    /// A Kubernetes ConfigMap.
    ConfigMap {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// An OCI artifact reference.
    Oci(String),
}

impl Output {
    /// Parses a destination as written on a command line or in a config.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() || text == "-" {
            return Ok(Output::Stdout);
        }
        if let Some(rest) = text.strip_prefix("cm://") {
            let (namespace, name) = parse_configmap(rest, text)?;
            return Ok(Output::ConfigMap { namespace, name });
        }
        if text.starts_with("oci://") {
            return Ok(Output::Oci(text.to_string()));
        }
        Ok(Output::File(PathBuf::from(text)))
    }

    /// Writes a whole document: to stdout, or atomically to a file.
    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Output::Stdout => write_stdout(bytes),
            Output::File(path) => aicr_bundle::write_file(path, bytes),
            Output::ConfigMap { namespace, name } => Err(Error::internal(format!(
                "cm://{namespace}/{name}: a ConfigMap is written through Client::write_output, which holds the cluster connection"
            ))),
            Output::Oci(reference) => Err(Error::invalid(format!(
                "{}: only bundles are pushed to OCI registries (`aicr bundle -o oci://...`); writing this document there is not supported yet, so write a file",
                aicr_core::error::escape(reference)
            ))),
        }
    }
}

/// Writes to stdout. A closed pipe (`aicr ... | head`) is not an error for
/// the user; it ends the output quietly as other command-line tools do.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::internal("writing to standard output").with_source(e)),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests write their fixtures directly
mod tests {
    use super::*;

    #[test]
    fn inputs_are_told_apart_in_one_place() {
        assert_eq!(Input::parse("-").unwrap(), Input::Stdin);
        assert_eq!(
            Input::parse(" https://x/r.yaml ").unwrap(),
            Input::Http("https://x/r.yaml".into())
        );
        assert_eq!(
            Input::parse("cm://ns/name").unwrap(),
            Input::ConfigMap {
                namespace: "ns".into(),
                name: "name".into()
            }
        );
        assert!(Input::parse("cm://ns/").is_err());
        assert!(Input::parse("file:///etc/x").is_err());
        assert_eq!(
            Input::parse("r.yaml").unwrap(),
            Input::File("r.yaml".into())
        );
        assert!(Input::parse("https://x/r.json?a=1").unwrap().is_json());
    }

    #[test]
    fn outputs_are_told_apart_in_one_place() {
        assert_eq!(Output::parse(" ").unwrap(), Output::Stdout);
        assert_eq!(Output::parse("-").unwrap(), Output::Stdout);
        assert_eq!(
            Output::parse("a.yaml").unwrap(),
            Output::File("a.yaml".into())
        );
        assert!(matches!(
            Output::parse("oci://r/x:1").unwrap(),
            Output::Oci(_)
        ));
    }

    #[test]
    fn special_files_and_oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_file(dir.path(), 10).unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest);
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'a'; 11]).unwrap();
        let err = read_file(&big, 10).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        assert_eq!(read_file(&big, 11).unwrap().len(), 11);
        let err = read_file(&dir.path().join("nope"), 10).unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
    }
}

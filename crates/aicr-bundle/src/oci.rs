//! A bundle as an OCI artifact, without any network: packing a
//! [`FileTree`] into one gzip'd tar layer and an OCI 1.1 image manifest,
//! unpacking a pulled layer back into a tree, and the OCI image layout
//! (`oci-layout`, `index.json`, `blobs/sha256/...`) as a tree to write.
//!
//! Packing is reproducible: the same tree gives the same bytes, and so the
//! same manifest digest, on every machine. Tar entries are in path order,
//! each directory before the files under it, GNU headers with mtime 0,
//! uid/gid 0, empty user and group names and modes 0755 (directories,
//! scripts) or 0644; the gzip header has mtime 0 and OS byte 255
//! ("unknown"), and its deflate stream always comes from the same backend
//! (flate2 on zlib-rs, which `zip` switches on in every build of this
//! crate). The JSON documents are serialised from structs, in field
//! order, without whitespace.
//!
//! Unpacking reads layers from registries we do not control, so it trusts
//! nothing: only regular files and directories, relative paths without
//! `..`, and caps on entries, per-file and total size ([`Limits`]).

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use aicr_core::error::{Error, Result, escape};

use crate::checksum::sha256_hex;
use crate::tree::FileTree;
use crate::write::MARKER_FILE;

/// `artifactType` of every AICR bundle manifest (the reference's).
pub const ARTIFACT_TYPE: &str = "application/vnd.nvidia.aicr.artifact";
/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image index (`index.json` of a layout).
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of the empty config blob `{}` of an OCI 1.1 artifact.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Media type of the bundle layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The layer's `org.opencontainers.image.title`.
pub const LAYER_TITLE: &str = "bundle.tar.gz";
/// `org.opencontainers.image.created` of every manifest: a fixed time, so
/// that the digest depends on the bundle only (the reference's value).
pub const CREATED: &str = "1970-01-01T00:00:00Z";
/// The empty config blob.
pub const EMPTY_CONFIG: &[u8] = b"{}";

const TITLE: &str = "org.opencontainers.image.title";

/// An OCI descriptor: what a manifest says about one blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the blob.
    pub media_type: String,
    /// `sha256:<hex>` of the blob.
    pub digest: String,
    /// Size of the blob in bytes.
    pub size: u64,
    /// The blob itself, base64, for the tiny empty config (as ORAS writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Annotations (sorted by key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI 1.1 image manifest, as far as we write and read it. Unknown
/// fields of a pulled manifest (`subject`, vendor extensions) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`].
    #[serde(default)]
    pub media_type: String,
    /// [`ARTIFACT_TYPE`] for our bundles.
    #[serde(default)]
    pub artifact_type: String,
    /// The config blob (the empty descriptor for artifacts).
    pub config: Descriptor,
    /// The layers; ours have exactly one.
    pub layers: Vec<Descriptor>,
    /// Manifest annotations (sorted by key).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A packed bundle: the three blobs a registry or layout stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The serialised manifest.
    pub manifest: Vec<u8>,
    /// `sha256:<hex>` of [`Artifact::manifest`]: the artifact's identity.
    pub manifest_digest: String,
    /// The tar.gz layer.
    pub layer: Vec<u8>,
    /// `sha256:<hex>` of the layer.
    pub layer_digest: String,
}

impl Artifact {
    /// Every blob the manifest refers to, config first: `(digest, bytes)`.
    pub fn blobs(&self) -> [(String, &[u8]); 2] {
        [
            (digest(EMPTY_CONFIG), EMPTY_CONFIG),
            (self.layer_digest.clone(), self.layer.as_slice()),
        ]
    }
}

/// `sha256:<hex>` of `bytes`, the OCI digest form.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// The descriptor of the empty config `{}` (with its bytes inline, as
/// ORAS and the OCI 1.1 guidance write it).
pub fn empty_config() -> Descriptor {
    Descriptor {
        media_type: EMPTY_MEDIA_TYPE.to_string(),
        digest: digest(EMPTY_CONFIG),
        size: EMPTY_CONFIG.len() as u64,
        data: Some("e30=".to_string()),
        annotations: BTreeMap::new(),
    }
}

/// Packs `tree` (the rendered bundle, `checksums.txt` included) as an
/// artifact; `version` is the tool version written into the manifest's
/// `org.opencontainers.image.version`.
pub fn pack(tree: &FileTree, version: &str) -> Result<Artifact> {
    let layer = tar_gz(tree)?;
    let layer_digest = digest(&layer);
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE.to_string(),
        artifact_type: ARTIFACT_TYPE.to_string(),
        config: empty_config(),
        layers: vec![Descriptor {
            media_type: LAYER_MEDIA_TYPE.to_string(),
            digest: layer_digest.clone(),
            size: layer.len() as u64,
            data: None,
            annotations: BTreeMap::from([(TITLE.to_string(), LAYER_TITLE.to_string())]),
        }],
        // The reference's manifest annotations, with its fixed time.
        annotations: BTreeMap::from([
            ("org.opencontainers.image.created".into(), CREATED.into()),
            (
                "org.opencontainers.image.source".into(),
                "https://github.com/NVIDIA/aicr".into(),
            ),
            (TITLE.into(), "AICR Bundle".into()),
            ("org.opencontainers.image.vendor".into(), "NVIDIA".into()),
            ("org.opencontainers.image.version".into(), version.into()),
        ]),
    };
    let manifest = to_json(&manifest)?;
    Ok(Artifact {
        manifest_digest: digest(&manifest),
        manifest,
        layer,
        layer_digest,
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| Error::internal("serialising an OCI document").with_source(e))
}

/// The reproducible tar.gz of `tree` (see the module doc).
pub fn tar_gz(tree: &FileTree) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| Error::internal("writing the bundle layer").with_source(e);
    let gzip = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let mut made = std::collections::BTreeSet::new();
    for (path, file) in tree.iter() {
        // Parent directories first, each once; paths are sorted, so a
        // directory always comes before everything under it.
        for (i, _) in path.match_indices('/') {
            let dir = &path[..=i];
            if made.insert(dir.to_string()) {
                let mut header = header(tar::EntryType::Directory, 0o755, 0);
                tar.append_data(&mut header, dir, std::io::empty())
                    .map_err(fail)?;
            }
        }
        let mode = if file.executable { 0o755 } else { 0o644 };
        let mut header = header(tar::EntryType::Regular, mode, file.bytes.len() as u64);
        tar.append_data(&mut header, path, file.bytes.as_slice())
            .map_err(fail)?;
    }
    let gzip = tar.into_inner().map_err(fail)?;
    gzip.finish().map_err(fail)
}

/// A GNU header with every field that could vary between machines fixed.
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    // new_gnu() leaves the names zeroed (empty); set them anyway so the
    // contract is visible here.
    let _ = header.set_username("");
    let _ = header.set_groupname("");
    header
}

/// Caps for [`unpack_with`]: a pulled layer may be hostile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files and directories).
    pub entries: usize,
    /// Largest single file.
    pub file_bytes: u64,
    /// Largest sum of file sizes.
    pub total_bytes: u64,
}

impl Default for Limits {
    /// Far above any real bundle (a few hundred files, a few MiB), far
    /// below what would hurt the machine.
    fn default() -> Self {
        Limits {
            entries: 20_000,
            file_bytes: 64 * 1024 * 1024,
            total_bytes: 256 * 1024 * 1024,
        }
    }
}

/// [`unpack_with`] under the default [`Limits`].
pub fn unpack(layer: &[u8]) -> Result<FileTree> {
    unpack_with(layer, &Limits::default())
}

/// The tree in a tar.gz layer. Only regular files and directories are
/// accepted; a link, device, FIFO, absolute path, `..`, a path twice, a
/// file where a directory is needed, or anything over `limits` is
/// INVALID_REQUEST. Directory entries only check their paths (the tree
/// has no empty directories); our `.aicr-bundle` marker, if a packer put
/// it in, is dropped (the writer adds its own).
pub fn unpack_with(layer: &[u8], limits: &Limits) -> Result<FileTree> {
    let bad = |what: String| Error::invalid(format!("the bundle layer {what}"));
    let broken = |e: std::io::Error| bad("is not a valid tar.gz archive".into()).with_source(e);
    // The decompressed stream is capped too, so that header extensions
    // (GNU long names, PAX records) cannot grow memory past the caps.
    let slack = 1024 * (limits.entries as u64 + 16);
    let stream = flate2::read::GzDecoder::new(layer).take(limits.total_bytes + slack);
    let mut archive = tar::Archive::new(stream);
    let mut files: BTreeMap<String, (Vec<u8>, bool)> = BTreeMap::new();
    let mut dirs = std::collections::BTreeSet::new();
    let (mut count, mut total) = (0usize, 0u64);
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        count += 1;
        if count > limits.entries {
            return Err(bad(format!("has more than {} entries", limits.entries)));
        }
        let raw = entry.path_bytes().into_owned();
        let path = safe_path(&raw).ok_or_else(|| {
            bad(format!(
                "holds an unsafe path {:?} (absolute, empty, with `..`, or not UTF-8)",
                escape(&String::from_utf8_lossy(&raw))
            ))
        })?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            dirs.insert(path);
            continue;
        }
        if !kind.is_file() {
            return Err(bad(format!(
                "holds {} which is not a regular file or directory (links, devices and FIFOs are refused)",
                escape(&path)
            )));
        }
        let size = entry.header().size().map_err(broken)?;
        if size > limits.file_bytes {
            return Err(bad(format!(
                "holds {} of {size} bytes, over the {}-byte limit per file",
                escape(&path),
                limits.file_bytes
            )));
        }
        total += size;
        if total > limits.total_bytes {
            return Err(bad(format!(
                "unpacks to more than {} bytes",
                limits.total_bytes
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry.read_to_end(&mut bytes).map_err(broken)?;
        if bytes.len() as u64 != size {
            return Err(bad(format!("ends inside {}", escape(&path))));
        }
        let executable = entry.header().mode().map_err(broken)? & 0o111 != 0;
        if path == MARKER_FILE {
            continue;
        }
        if files.insert(path.clone(), (bytes, executable)).is_some() {
            return Err(bad(format!("holds {} twice", escape(&path))));
        }
    }
    check_shape(&files, &dirs).map_err(bad)?;
    let mut tree = FileTree::new();
    for (path, (bytes, executable)) in files {
        if executable {
            tree.insert_executable(path, bytes);
        } else {
            tree.insert(path, bytes);
        }
    }
    Ok(tree)
}

/// A layer's path as a tree path: UTF-8, relative, components that are
/// neither empty, `.` nor `..` (a leading `./`, as `tar -C dir .` and
/// ORAS write, is dropped; a trailing `/` marks a directory).
fn safe_path(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut rest = text;
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.starts_with('/') {
        return None;
    }
    let normal = rest
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\0'));
    normal.then(|| rest.to_string())
}

/// No file may sit where another entry needs a directory.
fn check_shape(
    files: &BTreeMap<String, (Vec<u8>, bool)>,
    dirs: &std::collections::BTreeSet<String>,
) -> std::result::Result<(), String> {
    if let Some(both) = dirs.iter().find(|d| files.contains_key(*d)) {
        return Err(format!("holds {} as a file and a directory", escape(both)));
    }
    for path in files.keys().chain(dirs.iter()) {
        for (i, _) in path.match_indices('/') {
            let parent = &path[..i];
            if files.contains_key(parent) {
                return Err(format!(
                    "holds {} below the file {}",
                    escape(path),
                    escape(parent)
                ));
            }
        }
    }
    Ok(())
}

/// An OCI image layout holding `artifact` tagged `tag`, as a tree for
/// [`crate::write_tree`]: `oci-layout`, `index.json` and every blob under
/// `blobs/sha256/`, plus a `checksums.txt` so that the directory verifies
/// and can be replaced by the next run like a bundle.
pub fn layout(artifact: &Artifact, tag: &str) -> Result<FileTree> {
    let mut tree = FileTree::new();
    tree.insert("oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#);
    let entry = Descriptor {
        media_type: MANIFEST_MEDIA_TYPE.to_string(),
        digest: artifact.manifest_digest.clone(),
        size: artifact.manifest.len() as u64,
        data: None,
        annotations: BTreeMap::from([(
            "org.opencontainers.image.ref.name".to_string(),
            tag.to_string(),
        )]),
    };
    let index = Index {
        schema_version: 2,
        media_type: INDEX_MEDIA_TYPE,
        manifests: vec![entry],
    };
    tree.insert("index.json", to_json(&index)?);
    let manifest = (
        artifact.manifest_digest.clone(),
        artifact.manifest.as_slice(),
    );
    for (digest, bytes) in artifact.blobs().into_iter().chain([manifest]) {
        let hex = digest.trim_start_matches("sha256:");
        tree.insert(format!("blobs/sha256/{hex}"), bytes);
    }
    crate::checksum::add_checksums(&mut tree);
    Ok(tree)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    schema_version: u32,
    media_type: &'static str,
    manifests: Vec<Descriptor>,
}

#[cfg(test)]
#[path = "oci_tests.rs"]
mod tests;

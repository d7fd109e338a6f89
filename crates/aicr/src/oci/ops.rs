//! The OCI operations as [`Client`] methods: pack and push a rendered
//! bundle, write it as an OCI image layout, pull one back, and verify a
//! pulled bundle with the same checks as a directory.

use std::path::{Path, PathBuf};

use aicr_bundle::{FileTree, PublicKey, VerifyReport};
use aicr_core::{Error, Result, error::escape};

use super::{OciReference, Pulled, Pushed, RegistryOptions};
use crate::Client;

impl Client {
    /// Packs `tree` (see [`aicr_bundle::oci::pack`]) and pushes it to
    /// `reference`, which must carry a tag. Nothing is written locally.
    pub async fn push_bundle(
        &self,
        tree: &FileTree,
        reference: &OciReference,
        registry: &RegistryOptions,
    ) -> Result<Pushed> {
        let artifact = aicr_bundle::oci::pack(tree, crate::VERSION)?;
        super::push(registry, reference, &artifact).await
    }

    /// [`Client::push_bundle`] for synchronous callers.
    pub fn push_bundle_blocking(
        &self,
        tree: &FileTree,
        reference: &OciReference,
        registry: &RegistryOptions,
    ) -> Result<Pushed> {
        crate::block_on(self.push_bundle(tree, reference, registry))
    }

    /// Writes `tree` as an OCI image layout in `dir`, tagged `tag`, with
    /// the directory writer's rules (atomic; an existing directory that is
    /// not a previous output is replaced only with `force`). Returns the
    /// manifest digest.
    pub fn write_oci_layout(
        &self,
        tree: &FileTree,
        dir: &Path,
        tag: &str,
        force: bool,
    ) -> Result<String> {
        let artifact = aicr_bundle::oci::pack(tree, crate::VERSION)?;
        let layout = aicr_bundle::oci::layout(&artifact, tag)?;
        aicr_bundle::write_tree(&layout, dir, force)?;
        Ok(artifact.manifest_digest)
    }

    /// Pulls and unpacks the bundle at `reference`.
    pub async fn pull_bundle(
        &self,
        reference: &OciReference,
        registry: &RegistryOptions,
    ) -> Result<Pulled> {
        super::pull(registry, reference).await
    }

    /// [`Client::pull_bundle`] for synchronous callers.
    pub fn pull_bundle_blocking(
        &self,
        reference: &OciReference,
        registry: &RegistryOptions,
    ) -> Result<Pulled> {
        crate::block_on(self.pull_bundle(reference, registry))
    }

    /// Records a pushed reference (`registry/repo:tag@sha256:...` and a
    /// newline) in `path`, atomically.
    pub fn write_image_refs(&self, path: &Path, pushed: &Pushed) -> Result<()> {
        aicr_bundle::write_file(path, format!("{}\n", pushed.image_ref()).as_bytes())
    }

    /// Pulls the bundle at `reference` and verifies it as [`Client::verify`]
    /// verifies a directory: it is written to a private temporary
    /// directory (removed afterwards) and checked there. The report names
    /// the reference with its digest.
    pub fn verify_oci_blocking(
        &self,
        reference: &OciReference,
        registry: &RegistryOptions,
        key: Option<&PublicKey>,
    ) -> Result<VerifyReport> {
        let pulled = self.pull_bundle_blocking(reference, registry)?;
        let scratch = Scratch::new()?;
        let dir = scratch.0.join("bundle");
        aicr_bundle::write_tree(&pulled.tree, &dir, false)?;
        let mut report = self.verify(&dir, key);
        if let Ok(report) = &mut report {
            report.dir = format!("{reference}@{}", pulled.digest);
        }
        report.map_err(|e| e.context(escape(&reference.to_string())))
    }
}

/// A fresh directory under the system's temporary directory, removed on
/// drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("aicr-pull-{}-{n}", std::process::id()));
        // Private: the pulled files are checked here before anyone trusts them.
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(|e| {
            Error::internal(format!(
                "creating the temporary directory {}",
                escape(&dir.display().to_string())
            ))
            .with_source(e)
        })?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

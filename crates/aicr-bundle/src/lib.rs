//! `aicr-bundle`: output adapters. Pure functions from a recipe and
//! options to a file tree for Helm, Helmfile, Argo CD (plain and as a Helm
//! chart) and Flux. Nothing here deploys anything; writing the tree to disk
//! (atomically) and checksums are here too.

pub mod gotmpl;
pub mod options;
pub mod prepare;

pub use options::{BundleOptions, Deployer, DynamicPath, Effect, Toleration};
pub use prepare::{Component, Manifest, Prepared, prepare};
pub mod tree;

pub use tree::{FileTree, GeneratedFile};

pub mod archive;
pub mod argocd;
pub mod argocd_helm;
pub mod checksum;
pub mod flux;
pub mod helm;
pub mod helmfile;
pub mod localformat;
pub mod oci;
mod templates;
pub mod verify;
pub mod write;
mod yamlout;

pub use verify::{VerifyReport, verify_dir};
pub use write::{write_file, write_tree};

use aicr_core::catalog::{Components, FetchedFiles};
use aicr_core::error::Result;
use aicr_core::recipe::RecipeResult;

/// Builds the bundle for `recipe` with the deployer chosen in `options`:
/// the values pipeline, then the deployer, then `checksums.txt` over
/// every other file. Pure: nothing is read but the catalog and the
/// external manifests already `fetched`, and nothing is written.
pub fn bundle(
    catalog: &Components,
    recipe: &RecipeResult,
    options: &BundleOptions,
    fetched: &FetchedFiles,
) -> Result<FileTree> {
    aicr_core::ident::check_recipe(recipe, "recipe")?;
    // The tool version is written into script comments and READMEs; like
    // a recipe's versions it must be a plain token (no newline can end
    // the comment).
    if !aicr_core::ident::is_plain_token(&options.tool_version) {
        return Err(aicr_core::Error::invalid(format!(
            "tool version {:?} may hold only letters, digits and ._+-/",
            aicr_core::error::escape(&options.tool_version)
        )));
    }
    let prepared = prepare(catalog, recipe, options, fetched)?;
    let mut tree = match options.deployer {
        Deployer::Helm => helm::generate(&prepared, options)?,
        Deployer::Helmfile => helmfile::generate(&prepared, options)?,
        Deployer::Argocd => argocd::generate(&prepared, options)?,
        Deployer::ArgocdHelm => argocd_helm::generate(&prepared, options)?,
        Deployer::Flux => flux::generate(&prepared, options)?,
    };
    checksum::add_checksums(&mut tree);
    Ok(tree)
}

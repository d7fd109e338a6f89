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
pub mod attest;
pub mod bom;
pub mod checksum;
pub mod flux;
pub mod helm;
pub mod helmfile;
pub mod localformat;
pub mod oci;
mod templates;
pub mod trust;
pub mod vendor;
pub mod verify;
pub mod write;
mod yamlout;

pub use attest::{Provenance, PublicKey, Signing, SigningKey};
pub use trust::{Policy, TrustLevel};
pub use vendor::{FetchedCharts, VendoredChart};
pub use verify::{VerifyReport, verify_dir};
pub use write::{write_file, write_tree};

use aicr_core::catalog::{Components, FetchedFiles};
use aicr_core::error::Result;
use aicr_core::recipe::RecipeResult;

/// Builds the bundle for `recipe` with the deployer chosen in `options`:
/// the values pipeline, then the deployer, then the chart bill of
/// materials (`bom.cdx.json`), then `checksums.txt` over every other
/// file. Pure: nothing is read but the catalog and the external
/// manifests already `fetched`, and nothing is written. Vendored charts
/// and signing need [`bundle_with`].
pub fn bundle(
    catalog: &Components,
    recipe: &RecipeResult,
    options: &BundleOptions,
    fetched: &FetchedFiles,
) -> Result<FileTree> {
    bundle_with(
        catalog,
        recipe,
        options,
        fetched,
        &FetchedCharts::default(),
        None,
    )
    .map(|(tree, _)| tree)
}

/// [`bundle`] with the chart archives downloaded for
/// `options.vendor_charts` (ignored without it) and, given a key, the
/// signed provenance over `checksums.txt`
/// (`attestation/bundle-attestation.sigstore.json`, see [`attest`]).
/// Also returns where each vendored archive went, by component.
pub fn bundle_with(
    catalog: &Components,
    recipe: &RecipeResult,
    options: &BundleOptions,
    fetched: &FetchedFiles,
    charts: &FetchedCharts,
    signing: Option<&Signing>,
) -> Result<(FileTree, Vec<VendoredChart>)> {
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
    let mut vendor = vendor::Vendor::new(charts);
    let v = options.vendor_charts.then_some(&mut vendor);
    let mut tree = match options.deployer {
        Deployer::Helm => helm::generate(&prepared, options, v)?,
        Deployer::Helmfile => helmfile::generate(&prepared, options, v)?,
        Deployer::Argocd => argocd::generate(&prepared, options, v)?,
        Deployer::ArgocdHelm => argocd_helm::generate(&prepared, options, v)?,
        Deployer::Flux => flux::generate(&prepared, options, v)?,
    };
    let vendored = vendor.into_records();
    tree.insert(bom::BOM_FILE, bom::render(&prepared, options, &vendored));
    checksum::add_checksums(&mut tree);
    if let Some(signing) = signing {
        let provenance = attest::provenance(catalog, &prepared.recipe, options, &vendored, signing);
        attest::attest(&mut tree, &provenance, &signing.key)?;
    }
    Ok((tree, vendored))
}

//! `aicr bundle` and `aicr verify`: flags in, facade calls, report out.

use std::path::PathBuf;

use aicr::{
    BundleCommand, BundleRequest, BundleTarget, Client, Error, Format, OciReference, Output,
    PullCommand, Result,
};
use clap::Args;

use crate::cli::CatalogArgs;

/// Flags of `aicr bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Recipe file, `-` or http(s) URL (RecipeResult, or RecipeMetadata
    /// with spec.criteria).
    #[arg(short = 'r', long, value_name = "FILE|URL")]
    recipe: Option<String>,
    /// Output: a directory (default `./bundle`), oci://registry/repo[:tag]
    /// to push the bundle (a missing tag is this CLI's version; nothing is
    /// written locally), or oci-layout:DIR for an OCI image layout.
    #[arg(short = 'o', long, value_name = "DIR|OCI_REF")]
    output: Option<String>,
    /// Deployment tool: helm (default), helmfile, argocd, argocd-helm, flux.
    #[arg(short = 'd', long)]
    deployer: Option<String>,
    /// GitOps repository URL (argocd, flux).
    #[arg(long)]
    repo: Option<String>,
    /// Value override `component:dotted.path=value` (repeatable);
    /// `component:enabled=false` drops a component.
    #[arg(long = "set", value_name = "COMPONENT:PATH=VALUE")]
    sets: Vec<String>,
    /// Install-time value path `component:dotted.path` (repeatable).
    #[arg(long, value_name = "COMPONENT:PATH")]
    dynamic: Vec<String>,
    /// Node selector `key=value` for system components (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    system_node_selector: Vec<String>,
    /// Toleration `key[=value]:Effect` for system components (repeatable).
    #[arg(long, value_name = "KEY=VALUE:EFFECT")]
    system_node_toleration: Vec<String>,
    /// Node selector `key=value` for GPU nodes (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    accelerated_node_selector: Vec<String>,
    /// Toleration `key[=value]:Effect` for GPU nodes (repeatable).
    #[arg(long, value_name = "KEY=VALUE:EFFECT")]
    accelerated_node_toleration: Vec<String>,
    /// Taint `key[=value]:Effect` that gates workloads on tuned nodes.
    #[arg(long, value_name = "KEY=VALUE:EFFECT")]
    workload_gate: Option<String>,
    /// Selector `key=value` of the workloads to protect (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    workload_selector: Vec<String>,
    /// Storage class for components with persistent volumes.
    #[arg(long)]
    storage_class: Option<String>,
    /// Expected number of GPU nodes (at least 0).
    #[arg(long, allow_negative_numbers = true)]
    nodes: Option<i64>,
    #[command(flatten)]
    source: CatalogArgs,
    /// AICRConfig file or http(s) URL whose `spec.bundle` supplies
    /// defaults; flags win.
    #[arg(long, value_name = "FILE|URL")]
    config: Option<String>,
    /// Replace or write into an existing non-empty output directory.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    registry: crate::oci_cmd::RegistryArgs,
    /// With oci:// output: write the pushed reference
    /// (registry/repo:tag@sha256:...) to FILE.
    #[arg(long, value_name = "FILE")]
    image_refs: Option<PathBuf>,
}

/// Flags of `aicr verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Bundle directory, or oci://registry/repo[:tag|@sha256:...] to pull
    /// the bundle and verify it without writing it anywhere you see.
    #[arg(value_name = "DIR|OCI_REF")]
    dir: String,
    /// Report format: text or json.
    #[arg(short = 't', long, default_value = "text")]
    format: String,
    #[command(flatten)]
    registry: crate::oci_cmd::RegistryArgs,
}

impl BundleArgs {
    fn command(self) -> Result<BundleCommand> {
        if self.registry.reads_stdin() && self.recipe.as_deref().map(str::trim) == Some("-") {
            return Err(Error::invalid(
                "--registry-password-stdin and --recipe - both read standard input; pass the recipe as a file",
            ));
        }
        Ok(BundleCommand {
            request: BundleRequest {
                deployer: self.deployer,
                repo: self.repo,
                set: self.sets,
                dynamic: self.dynamic,
                system_node_selector: self.system_node_selector,
                system_node_toleration: self.system_node_toleration,
                accelerated_node_selector: self.accelerated_node_selector,
                accelerated_node_toleration: self.accelerated_node_toleration,
                workload_gate: self.workload_gate,
                workload_selector: self.workload_selector,
                nodes: self.nodes,
                storage_class: self.storage_class,
            },
            recipe: self.recipe,
            output: self.output,
            config: self.config,
            force: self.force,
            catalog: self.source.catalog,
            data: self.source.data,
            registry: self.registry.options()?,
            image_refs: self.image_refs,
        })
    }
}

/// Runs `aicr bundle`.
pub fn bundle(args: BundleArgs) -> Result<()> {
    let plan = args.command()?.plan()?;
    let client = Client::open(&plan.catalog)?;
    let recipe = client.read_recipe_blocking(&plan.recipe)?;
    // Downloads are the one step that may reach the network.
    let fetched = client.fetch_manifests_blocking(&recipe)?;
    let tree = client.render_bundle(&recipe, &plan.options, &fetched)?;
    let deployer = plan.options.deployer.as_str();
    match &plan.output {
        BundleTarget::Dir(dir) => {
            client.write_bundle(&tree, dir, plan.force)?;
            crate::cli::note(&format!(
                "bundle written to {} ({deployer} deployer, {} files)",
                dir.display(),
                tree.len()
            ));
        }
        BundleTarget::Registry(reference) => {
            let pushed = client.push_bundle_blocking(&tree, reference, &plan.registry)?;
            if let Some(path) = &plan.image_refs {
                client.write_image_refs(path, &pushed)?;
            }
            crate::cli::note(&format!(
                "bundle pushed to {}@{} ({deployer} deployer, {} files)",
                pushed.reference,
                pushed.digest,
                tree.len()
            ));
        }
        BundleTarget::Layout { dir, tag } => {
            let digest = client.write_oci_layout(&tree, dir, tag, plan.force)?;
            crate::cli::note(&format!(
                "bundle written as an OCI image layout to {} (tag {tag}, {digest}; {deployer} deployer, {} files)",
                dir.display(),
                tree.len()
            ));
        }
    }
    Ok(())
}

/// Runs `aicr verify`.
pub fn verify(args: VerifyArgs) -> Result<()> {
    let json = match args.format.trim() {
        "text" => false,
        "json" => true,
        other => {
            return Err(Error::invalid(format!(
                "unknown verify format {other:?}: valid formats are text, json"
            )));
        }
    };
    let client = Client::embedded()?;
    let report = if args.dir.trim().starts_with("oci://") {
        let plan = PullCommand {
            reference: args.dir,
            registry: args.registry.options()?,
            ..PullCommand::default()
        }
        .plan()?;
        let reference: &OciReference = &plan.reference;
        client.verify_oci_blocking(reference, &plan.registry)?
    } else {
        client.verify(std::path::Path::new(&args.dir))?
    };
    let text = if json {
        Format::Json.render(&report)
    } else {
        report.render_text()
    };
    Output::Stdout.write(text.as_bytes())?;
    report.into_result().map(|_| ())
}

//! `aicr bundle` and `aicr verify`: flags in, facade calls, report out.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use aicr::{
    BundleCommand, BundleRequest, BundleTarget, Client, Error, Format, OciReference, Output,
    PullCommand, Result, VerifyPolicy, read_public_key,
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
    /// Download every Helm chart the recipe names into the bundle
    /// (`charts/<chart>-<version>.tgz`, checked against its repository's
    /// index digest) and install from those files, so deploying needs no
    /// chart repository; charts in OCI registries are pulled too.
    /// Example: `aicr bundle -r recipe.yaml --vendor-charts -o bundle`.
    #[arg(long)]
    vendor_charts: bool,
    /// Sign the bundle's provenance (SLSA v1 in-toto statement over
    /// checksums.txt) into attestation/bundle-attestation.sigstore.json;
    /// needs --signing-key (keyless signing is not supported).
    #[arg(long)]
    attest: bool,
    /// PEM private key for --attest: PKCS#8 ECDSA P-256 or Ed25519 (or
    /// SEC1 `EC PRIVATE KEY`), unencrypted.
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
    #[command(flatten)]
    registry: crate::oci_cmd::RegistryArgs,
    /// With oci:// output: write the pushed reference
    /// (registry/repo:tag@sha256:...) to FILE.
    #[arg(long, value_name = "FILE")]
    image_refs: Option<PathBuf>,
}

/// `aicr bundle --help` examples.
pub const BUNDLE_EXAMPLES: &str = "Examples:
  aicr bundle -r recipe.yaml -o ./bundle
  # Charts inside the bundle, so installing needs no chart repository:
  aicr bundle -r recipe.yaml -o ./bundle --vendor-charts
  # Push to a registry, or write an OCI image layout:
  aicr bundle -r recipe.yaml -o oci://ghcr.io/acme/gpu-bundle:v1 --image-refs refs.txt
  echo \"$TOKEN\" | aicr bundle -r recipe.yaml -o oci://registry.example:5000/gpu/bundle \\
      --registry-username ci --registry-password-stdin
  aicr bundle -r recipe.yaml -o oci://localhost:5000/gpu/bundle:dev --plain-http
  aicr bundle -r recipe.yaml -o oci://registry.lab:5000/gpu/bundle:dev --insecure-tls
  aicr bundle -r recipe.yaml -d argocd -o oci://ghcr.io/acme/gpu-bundle:v1
  aicr bundle -r recipe.yaml -o oci-layout:./bundle-layout
  # Signed provenance with a key (same inputs and key: identical bytes):
  openssl genpkey -algorithm ed25519 -out bundle-key.pem
  openssl pkey -in bundle-key.pem -pubout -out bundle-key.pub
  aicr bundle -r recipe.yaml -o ./bundle --attest --signing-key bundle-key.pem";

/// `aicr verify --help` examples.
pub const VERIFY_EXAMPLES: &str = "Trust levels:
  verified    the reference's full keyless chain (NVIDIA CI binary attestation): not reachable here
  attested    checksums valid and the bundle attestation verified with --public-key
  unverified  checksums valid; no attestation, or one not checked (no --public-key)
  unknown     checksums missing or failed, or the attestation failed

Examples:
  aicr verify ./bundle
  aicr verify ./bundle --public-key bundle-key.pub
  aicr verify ./bundle --public-key bundle-key.pub --min-trust-level attested
  aicr verify ./bundle --public-key bundle-key.pub --cli-version-constraint 0.1.0
  aicr verify ./bundle --format json
  aicr verify oci://ghcr.io/acme/gpu-bundle:v1 --public-key bundle-key.pub
  aicr verify oci://localhost:5000/gpu/bundle:dev --plain-http";

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
    /// PEM public key (P-256 or Ed25519) to check the bundle attestation
    /// with; without it an attestation is reported as not checked.
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
    /// Minimum trust level: max (the highest this bundle can reach),
    /// verified, attested, unverified or unknown.
    #[arg(long, default_value = "max", value_name = "LEVEL")]
    min_trust_level: String,
    /// Require this bundle creator (for a key: its hint, as printed).
    #[arg(long, value_name = "CREATOR")]
    require_creator: Option<String>,
    /// Constraint on the aicr version recorded in the attestation
    /// (`>=`, `>`, `<=`, `<`, `==`, `!=`; a bare version means `>=`).
    #[arg(long, value_name = "CONSTRAINT")]
    cli_version_constraint: Option<String>,
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
            vendor_charts: self.vendor_charts,
            attest: self.attest,
            signing_key: self.signing_key,
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
    // Charts in OCI registries are pulled over HTTPS with the Docker
    // config's credentials (where `helm registry login` leaves them); the
    // --plain-http/--insecure-tls/--registry-* flags are for the output.
    let settings = aicr::ChartFetch {
        progress: Some(if std::io::stderr().is_terminal() {
            progress_bar
        } else {
            progress_line
        }),
        registry: aicr::RegistryOptions {
            docker_config: crate::oci_cmd::docker_config_path(),
            ..aicr::RegistryOptions::default()
        },
        ..aicr::ChartFetch::default()
    };
    let charts = client.fetch_charts_blocking(&recipe, &plan.options, &fetched, &settings)?;
    let (tree, _) = client.render_bundle_with(
        &recipe,
        &plan.options,
        &fetched,
        &charts,
        plan.signing.as_ref(),
    )?;
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

/// `--vendor-charts` progress when stderr is not a terminal: one line per
/// chart.
fn progress_line(_: usize, _: usize, line: &str) {
    eprintln!("vendor-charts: {line}");
}

/// `--vendor-charts` progress on a terminal: one bar redrawn in place,
/// ended with a newline when the last chart is in.
fn progress_bar(done: usize, total: usize, line: &str) {
    eprint!("\r\x1b[2K{}", bar(done, total, line));
    if done == total {
        eprintln!();
    }
}

/// `vendor-charts [#####-----] 5/10 <line>`: 20 cells.
fn bar(done: usize, total: usize, line: &str) -> String {
    const CELLS: usize = 20;
    let filled = (done * CELLS)
        .checked_div(total)
        .unwrap_or(CELLS)
        .min(CELLS);
    let detail = line.split_once("] ").map_or(line, |(_, rest)| rest);
    format!(
        "vendor-charts [{}{}] {done}/{total} {detail}",
        "#".repeat(filled),
        "-".repeat(CELLS - filled)
    )
}

/// Runs `aicr verify`: every flag is checked before the bundle is read;
/// the report is printed whatever the verdict, then a failed check is
/// UNAUTHORIZED (exit 4) and a policy miss INVALID_REQUEST (exit 2).
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
    let policy = VerifyPolicy::parse(
        &args.min_trust_level,
        args.require_creator.as_deref(),
        args.cli_version_constraint.as_deref(),
    )?;
    let key = args
        .public_key
        .as_deref()
        .map(read_public_key)
        .transpose()?;
    let client = Client::embedded()?;
    let report = if args.dir.trim().starts_with("oci://") {
        let plan = PullCommand {
            reference: args.dir,
            registry: args.registry.options()?,
            ..PullCommand::default()
        }
        .plan()?;
        let reference: &OciReference = &plan.reference;
        client.verify_oci_blocking(reference, &plan.registry, key.as_ref())?
    } else {
        client.verify(std::path::Path::new(&args.dir), key.as_ref())?
    };
    let failure = report.check_policy(&policy)?;
    let text = if json {
        Format::Json.render(&report)
    } else {
        report.render_text(failure.as_deref())
    };
    Output::Stdout.write(text.as_bytes())?;
    report.into_result(failure).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_bar_fills_with_the_charts_done() {
        assert_eq!(
            bar(0, 4, "[0/4] x"),
            "vendor-charts [--------------------] 0/4 x"
        );
        assert_eq!(
            bar(1, 4, "[1/4] fetched a 1.0 (3 KiB)"),
            "vendor-charts [#####---------------] 1/4 fetched a 1.0 (3 KiB)"
        );
        assert_eq!(
            bar(4, 4, "[4/4] y"),
            "vendor-charts [####################] 4/4 y"
        );
    }
}

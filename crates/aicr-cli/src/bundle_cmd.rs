//! `aicr bundle` and `aicr verify`: flags in, facade calls, report out.

use std::path::PathBuf;

use aicr::bundle::{BundleOptions, Deployer, DynamicPath, Toleration, options::parse_selector};
use aicr::core::values::SetOverride;
use aicr::{Client, Error, Result};
use clap::Args;

use crate::cli::CatalogArgs;

/// Flags of `aicr bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Recipe file (RecipeResult, or RecipeMetadata with spec.criteria).
    #[arg(short = 'r', long, value_name = "FILE")]
    recipe: Option<String>,
    /// Output directory (default `./bundle`).
    #[arg(short = 'o', long, value_name = "DIR")]
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
    /// Expected number of GPU nodes.
    #[arg(long)]
    nodes: Option<u32>,
    #[command(flatten)]
    source: CatalogArgs,
    /// AICRConfig file whose `spec.bundle` supplies defaults; flags win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Replace or write into an existing non-empty output directory.
    #[arg(long)]
    force: bool,
}

/// Flags of `aicr verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Bundle directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Report format: text or json.
    #[arg(short = 't', long, default_value = "text")]
    format: String,
}

impl BundleArgs {
    /// Fills flags that were not given from the config's `spec.bundle`.
    fn merge_config(&mut self) -> Result<()> {
        let Some(path) = &self.config else {
            return Ok(());
        };
        let config = crate::cli::load_config(path)?;
        let Some(bundle) = config.spec.bundle else {
            return Ok(());
        };
        let text = |s: &String| (!s.trim().is_empty()).then(|| s.clone());
        if self.recipe.is_none() {
            self.recipe = bundle.input.as_ref().and_then(|i| text(&i.recipe));
        }
        if self.output.is_none() {
            self.output = bundle.output.as_ref().and_then(|o| text(&o.target));
        }
        if let Some(d) = &bundle.deployment {
            self.deployer = self.deployer.take().or_else(|| text(&d.deployer));
            self.repo = self.repo.take().or_else(|| text(&d.repo));
            if self.sets.is_empty() {
                self.sets.clone_from(&d.set);
            }
            if self.dynamic.is_empty() {
                self.dynamic.clone_from(&d.dynamic);
            }
        }
        if let Some(s) = &bundle.scheduling {
            fill(
                &mut self.system_node_selector,
                pairs(&s.system_node_selector),
            );
            fill(
                &mut self.accelerated_node_selector,
                pairs(&s.accelerated_node_selector),
            );
            fill(&mut self.workload_selector, pairs(&s.workload_selector));
            fill(
                &mut self.system_node_toleration,
                s.system_node_tolerations.clone(),
            );
            fill(
                &mut self.accelerated_node_toleration,
                s.accelerated_node_tolerations.clone(),
            );
            self.workload_gate = self.workload_gate.take().or_else(|| text(&s.workload_gate));
            self.storage_class = self.storage_class.take().or_else(|| text(&s.storage_class));
            if self.nodes.is_none() {
                self.nodes = s
                    .nodes
                    .filter(|n| *n > 0)
                    .map(|n| n.min(u32::MAX as i64) as u32);
            }
        }
        Ok(())
    }

    /// Parses every flag grammar before anything is read or written.
    fn options(&self) -> Result<BundleOptions> {
        let mut o = BundleOptions {
            deployer: Deployer::parse(self.deployer.as_deref().unwrap_or("helm"))?,
            repo: self.repo.clone().filter(|r| !r.trim().is_empty()),
            tool_version: aicr::VERSION.to_string(),
            nodes: self.nodes.unwrap_or(0),
            ..BundleOptions::default()
        };
        for s in &self.sets {
            o.sets.push(SetOverride::parse(s)?);
        }
        for d in &self.dynamic {
            o.dynamic.push(DynamicPath::parse(d)?);
        }
        for s in &self.system_node_selector {
            parse_selector(s, &mut o.system_node_selector)?;
        }
        for s in &self.accelerated_node_selector {
            parse_selector(s, &mut o.accelerated_node_selector)?;
        }
        for s in &self.workload_selector {
            parse_selector(s, &mut o.workload_selector)?;
        }
        for t in &self.system_node_toleration {
            o.system_node_tolerations.push(Toleration::parse(t)?);
        }
        for t in &self.accelerated_node_toleration {
            o.accelerated_node_tolerations.push(Toleration::parse(t)?);
        }
        o.workload_gate = self
            .workload_gate
            .as_deref()
            .map(Toleration::parse)
            .transpose()?;
        if let Some(class) = &self.storage_class {
            if class.trim().is_empty() {
                return Err(Error::invalid("--storage-class must not be blank"));
            }
            o.storage_class = Some(class.trim().to_string());
        }
        // Rejected here too, before the recipe is read; the library checks
        // it again for embedders.
        if let Some(d) = o.dynamic.first().filter(|_| o.deployer == Deployer::Argocd) {
            return Err(Error::invalid(format!(
                "DynamicValues is not supported with the argocd deployer (component {:?} has {} paths); use the argocd-helm deployer for install-time values",
                d.component,
                o.dynamic
                    .iter()
                    .filter(|x| x.component == d.component)
                    .count()
            )));
        }
        Ok(o)
    }

    fn client(&self) -> Result<Client> {
        self.source.client(None)
    }
}

fn check_output(output: &str) -> Result<PathBuf> {
    let output = output.trim();
    if output.starts_with("oci://") {
        return Err(Error::invalid(format!(
            "--output {output}: OCI output comes in a later issue; write to a directory and push it with your registry tooling"
        )));
    }
    if output.is_empty() {
        return Err(Error::invalid("--output must not be empty"));
    }
    Ok(PathBuf::from(output))
}

fn load_recipe(client: &Client, input: &str) -> Result<aicr::RecipeResult> {
    let input = input.trim();
    if input.starts_with("cm://") {
        return Err(Error::invalid(format!(
            "--recipe {input}: reading recipes from ConfigMaps comes with the snapshot issue; save the recipe to a file and pass its path"
        )));
    }
    if input.starts_with("http://") || input.starts_with("https://") {
        return client.fetch_recipe(input);
    }
    client.load_recipe(input)
}

/// `key=value` flag forms of a config map.
fn pairs<'a>(map: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<String> {
    map.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Sets a list flag from the config when the flag was not given.
fn fill(flag: &mut Vec<String>, from_config: Vec<String>) {
    if flag.is_empty() {
        *flag = from_config;
    }
}

/// Runs `aicr bundle`.
pub fn bundle(mut args: BundleArgs) -> Result<()> {
    args.merge_config()?;
    let options = args.options()?;
    let output = check_output(args.output.as_deref().unwrap_or("./bundle"))?;
    let recipe_input = args.recipe.clone().ok_or_else(|| {
        Error::invalid("--recipe is required (or spec.bundle.input.recipe in --config)")
    })?;
    let client = args.client()?;
    let recipe = load_recipe(&client, &recipe_input)?;
    let tree = client.bundle(&recipe, &options)?;
    client.write_bundle(&tree, &output, args.force)?;
    eprintln!(
        "bundle written to {} ({} deployer, {} files)",
        output.display(),
        options.deployer.as_str(),
        tree.len()
    );
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
    let report = Client::verify(&args.dir)?;
    if json {
        let value = serde_json::to_value(&report)
            .map_err(|e| Error::internal(format!("rendering report: {e}")))?;
        print!("{}", aicr::core::yaml::to_json(&value));
    } else if report.is_valid() {
        println!(
            "bundle {} verified: {} files match checksums.txt",
            report.dir, report.files_checked
        );
    } else {
        for f in &report.findings {
            let what = match f.problem {
                aicr::bundle::verify::Problem::Mismatch => "checksum mismatch",
                aicr::bundle::verify::Problem::Missing => "missing",
                aicr::bundle::verify::Problem::Extra => "not listed in checksums.txt",
            };
            println!("{}: {what}", f.path);
        }
    }
    report.into_result().map(|_| ())
}

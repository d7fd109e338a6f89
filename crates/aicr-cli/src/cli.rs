//! Commands, flags, outputs and exit statuses.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use aicr::core::criteria::{Accelerator, Intent, Os, Platform, Service};
use aicr::core::output::{Format, render, render_selected};
use aicr::core::yaml::to_value;
use aicr::{Client, Criteria, Error, Result};
use clap::{Args, Parser, Subcommand};

/// AI Cluster Runtime: validated, version-locked configuration for GPU
/// Kubernetes clusters.
#[derive(Debug, Parser)]
#[command(name = "aicr", version = aicr::VERSION, disable_version_flag = true)]
struct Cli {
    /// Print the version and exit.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version, global = false)]
    version: Option<bool>,
    /// Debug logging on stderr.
    #[arg(long, env = "AICR_DEBUG", global = true)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Resolve the recipe for an environment.
    Recipe(RecipeArgs),
    /// Print part of the hydrated recipe selected by a dot path.
    Query(QueryArgs),
}

/// Flags shared by commands that resolve a recipe.
#[derive(Debug, Args)]
struct CriteriaArgs {
    /// Kubernetes service: eks, gke, aks, oke, kind, lke.
    #[arg(long)]
    service: Option<String>,
    /// GPU: h100, gb200, b200, a100, l40, rtx-pro-6000.
    #[arg(long, visible_alias = "gpu")]
    accelerator: Option<String>,
    /// Worker OS: ubuntu, rhel, cos, amazonlinux (al2, al2023), talos.
    #[arg(long)]
    os: Option<String>,
    /// Workload intent: training, inference.
    #[arg(long)]
    intent: Option<String>,
    /// Platform: dynamo, kubeflow, nim, slurm.
    #[arg(long)]
    platform: Option<String>,
    /// Number of GPU nodes (0 or less is ignored).
    #[arg(long, allow_negative_numbers = true)]
    nodes: Option<i64>,
    /// Snapshot input (file, URL or cm://ns/name): not available yet; it
    /// comes with the snapshot issue.
    #[arg(short = 's', long, hide = true)]
    snapshot: Option<String>,
    /// External data directory layered over the embedded catalog.
    #[arg(long, value_name = "DIR", conflicts_with = "catalog")]
    data: Option<PathBuf>,
    /// Use DIR as the entire catalog instead of the embedded one.
    #[arg(long, value_name = "DIR")]
    catalog: Option<PathBuf>,
    /// Output format: yaml, json, table.
    #[arg(short = 't', long, default_value = "yaml")]
    format: String,
}

#[derive(Debug, Args)]
struct RecipeArgs {
    #[command(flatten)]
    criteria: CriteriaArgs,
    /// Destination file; `-` or nothing for stdout.
    #[arg(short = 'o', long)]
    output: Option<String>,
}

#[derive(Debug, Args)]
struct QueryArgs {
    #[command(flatten)]
    criteria: CriteriaArgs,
    /// Dot path into the hydrated recipe (`components.gpu-operator.values`); `.` for all.
    #[arg(long, required = true)]
    selector: String,
}

/// Runs the CLI and returns the exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
        }
    };
    let result = match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Ok(())
        }
        Some(Command::Recipe(args)) => recipe(args),
        Some(Command::Query(args)) => query(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_status()
        }
    }
}

impl CriteriaArgs {
    fn criteria(&self) -> Result<Criteria> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let nodes = self.nodes.unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        Ok(Criteria {
            service: Service::parse_flag(&opt(&self.service))?,
            accelerator: Accelerator::parse(&opt(&self.accelerator))?,
            intent: Intent::parse(&opt(&self.intent))?,
            os: Os::parse(&opt(&self.os))?,
            platform: Platform::parse(&opt(&self.platform))?,
            nodes,
        })
    }

    fn client(&self) -> Result<Client> {
        match (&self.catalog, &self.data) {
            (Some(dir), _) => Client::with_catalog_dir(dir),
            (None, Some(dir)) => Client::with_data_dir(dir),
            (None, None) => Client::embedded(),
        }
    }

    /// Validates flags and returns (client, criteria, format).
    fn prepare(&self) -> Result<(Client, Criteria, Format)> {
        if self.snapshot.is_some() {
            return Err(Error::invalid(
                "--snapshot is not available yet: snapshot input comes with the snapshot command",
            ));
        }
        let format = Format::parse(&self.format)?;
        let criteria = self.criteria()?;
        if criteria.is_empty() {
            return Err(Error::invalid(
                "no criteria provided: specify at least one of --service, --accelerator, --intent, --os, --platform or --nodes",
            ));
        }
        Ok((self.client()?, criteria, format))
    }
}

fn recipe(args: RecipeArgs) -> Result<()> {
    let (client, criteria, format) = args.criteria.prepare()?;
    let recipe = client.recipe(&criteria)?;
    let text = render(&to_value(&recipe), format);
    write_output(args.output.as_deref(), text.as_bytes())
}

fn query(args: QueryArgs) -> Result<()> {
    let (client, criteria, format) = args.criteria.prepare()?;
    let selected = client.query(&criteria, &args.selector)?;
    write_output(None, render_selected(&selected, format).as_bytes())
}

/// Writes to stdout, or to a file through a temporary sibling renamed into
/// place so a failure never leaves a half-written file.
fn write_output(dest: Option<&str>, bytes: &[u8]) -> Result<()> {
    match dest.map(str::trim) {
        None | Some("" | "-") => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|e| Error::internal(format!("writing to stdout: {e}")))
        }
        Some(path) => write_atomically(Path::new(path), bytes),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| Error::internal(format!("writing {}: {e}", path.display()));
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("output path {} names no file", path.display())))?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

//! Commands, flags, outputs and exit statuses.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use aicr::core::config::{AicrConfig, CriteriaConfig, RecipeConfig};
use aicr::core::output::{Format, render_owned, render_selected};
use aicr::core::yaml::to_value;
use aicr::{Client, Criteria, Error, Result};
use clap::{Args, Parser, Subcommand};

/// `aicr --version` prints `aicr version <ver> (commit: <sha>, date: <date>)`.
const VERSION_TEXT: &str = concat!(
    "version v",
    env!("CARGO_PKG_VERSION"),
    " (commit: unknown, date: unknown)"
);

/// AI Cluster Runtime: validated, version-locked configuration for GPU
/// Kubernetes clusters.
#[derive(Debug, Parser)]
#[command(name = "aicr", version = VERSION_TEXT, disable_version_flag = true)]
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
    /// Write a deployment bundle for a recipe.
    Bundle(crate::bundle_cmd::BundleArgs),
    /// Check a bundle directory against its checksums.txt.
    Verify(crate::bundle_cmd::VerifyArgs),
}

/// Where the catalog comes from: embedded, `--catalog`, or `--data` layered
/// over the embedded one. Shared by every command that reads the catalog.
#[derive(Debug, Args)]
pub(crate) struct CatalogArgs {
    /// External data directory layered over the embedded catalog.
    #[arg(long, value_name = "DIR", conflicts_with = "catalog")]
    pub(crate) data: Option<PathBuf>,
    /// Use DIR as the entire catalog instead of the embedded one.
    #[arg(long, value_name = "DIR")]
    pub(crate) catalog: Option<PathBuf>,
}

impl CatalogArgs {
    /// Opens the catalog; `default_data` (from a config file) applies when
    /// `--data` is absent.
    pub(crate) fn client(&self, default_data: Option<PathBuf>) -> Result<Client> {
        match (&self.catalog, self.data.clone().or(default_data)) {
            (Some(dir), _) => Client::with_catalog_dir(dir),
            (None, Some(dir)) => Client::with_data_dir(dir),
            (None, None) => Client::embedded(),
        }
    }
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
    /// Derive criteria from a snapshot (file, URL or cm://ns/name). Not
    /// available yet: snapshot input and cm:// come with the snapshot command.
    #[arg(short = 's', long)]
    snapshot: Option<String>,
    #[command(flatten)]
    source: CatalogArgs,
    /// AICRConfig file giving defaults for these flags; explicit flags win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format: yaml, json, table [default: yaml].
    #[arg(short = 't', long)]
    format: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct RecipeArgs {
    #[command(subcommand)]
    sub: Option<crate::lint_cmd::RecipeSub>,
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
        Err(e) => return clap_error(&e),
    };
    let result = match cli.command {
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            Ok(())
        }
        Some(Command::Recipe(RecipeArgs { sub: Some(sub), .. })) => crate::lint_cmd::run(sub),
        Some(Command::Recipe(args)) => recipe(args),
        Some(Command::Query(args)) => query(args),
        Some(Command::Bundle(args)) => crate::bundle_cmd::bundle(args),
        Some(Command::Verify(args)) => crate::bundle_cmd::verify(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_status()
        }
    }
}

/// What a recipe-resolving command runs with, after flags and config merge.
struct Resolved {
    client: Client,
    criteria: Criteria,
    format: Format,
    /// `spec.recipe.output.path` of the config, used when `-o` is absent.
    config_output: Option<String>,
}

/// Maps a flag-parsing failure to the reference's statuses: a repeated
/// single-value flag is INVALID_REQUEST (2), other usage errors exit 1.
fn clap_error(e: &clap::Error) -> i32 {
    use clap::error::{ContextKind, ErrorKind};
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            0
        }
        ErrorKind::ArgumentConflict
            if e.get(ContextKind::PriorArg) == e.get(ContextKind::InvalidArg) =>
        {
            let flag = e
                .get(ContextKind::InvalidArg)
                .map(|a| a.to_string())
                .unwrap_or_default();
            let flag = flag.split_whitespace().next().unwrap_or_default();
            let err = Error::invalid(format!("flag {flag} can only be specified once"));
            eprintln!("{err}");
            err.exit_status()
        }
        // The reference treats an unknown command word as a missing help topic.
        ErrorKind::InvalidSubcommand => {
            let word = e
                .get(ContextKind::InvalidSubcommand)
                .map(|a| a.to_string())
                .unwrap_or_default();
            eprintln!("No help topic for '{word}'");
            3
        }
        _ => {
            let _ = e.print();
            1
        }
    }
}

impl CriteriaArgs {
    /// Criteria from the config's defaults, then the explicit flags.
    fn criteria(&self, config: Option<&RecipeConfig>) -> Result<Criteria> {
        let defaults = config.and_then(|c| c.criteria.clone()).unwrap_or_default();
        CriteriaConfig {
            service: self.service.clone().or(defaults.service),
            accelerator: self.accelerator.clone().or(defaults.accelerator),
            intent: self.intent.clone().or(defaults.intent),
            os: self.os.clone().or(defaults.os),
            platform: self.platform.clone().or(defaults.platform),
            // A flag of 0 or less means "not given", as in the reference.
            nodes: self.nodes.map(|n| n.max(0)).or(defaults.nodes),
        }
        .criteria()
    }

    fn client(&self, config: Option<&RecipeConfig>) -> Result<Client> {
        self.source
            .client(config.and_then(|c| c.data.clone()).map(PathBuf::from))
    }

    /// Validates flags, merges the config, and opens the catalog.
    fn prepare(&self) -> Result<Resolved> {
        let config = self.config.as_deref().map(load_config).transpose()?;
        let recipe_config = config.as_ref().and_then(|c| c.spec.recipe.as_ref());
        let snapshot_in_config = recipe_config
            .and_then(|r| r.input.as_ref())
            .is_some_and(|i| !i.snapshot.is_empty());
        if self.snapshot.is_some() || snapshot_in_config {
            return Err(Error::invalid(
                "snapshot input is not available yet: it comes with the snapshot command",
            ));
        }
        let config_output = recipe_config.and_then(|r| r.output.as_ref());
        let format = match (&self.format, config_output.filter(|o| !o.format.is_empty())) {
            (Some(flag), _) => Format::parse(flag)?,
            (None, Some(out)) => Format::parse(&out.format)?,
            (None, None) => Format::Yaml,
        };
        let criteria = self.criteria(recipe_config)?;
        if criteria.is_empty() {
            return Err(Error::invalid(
                "no criteria provided: specify at least one of --service, --accelerator, --intent, --os, --platform or --nodes",
            ));
        }
        Ok(Resolved {
            client: self.client(recipe_config)?,
            criteria,
            format,
            config_output: config_output
                .map(|o| o.path.clone())
                .filter(|p| !p.is_empty()),
        })
    }
}

/// Reads an AICRConfig file. URLs and ConfigMaps are not accepted here.
pub(crate) fn load_config(path: &Path) -> Result<AicrConfig> {
    let text = path.to_string_lossy();
    if text.starts_with("cm://") || text.starts_with("file://") {
        return Err(Error::invalid(format!(
            "--config {text}: only a local file path is accepted"
        )));
    }
    if text.starts_with("http://") || text.starts_with("https://") {
        return Err(Error::invalid(format!(
            "--config {text}: configs from URLs are not supported yet; download the file and pass its path"
        )));
    }
    let body = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::not_found(format!("config file {text} not found")),
        _ => Error::invalid(format!("cannot read config file {text}: {e}")),
    })?;
    AicrConfig::parse(&body, &text, text.ends_with(".json"))
}

fn recipe(args: RecipeArgs) -> Result<()> {
    let Resolved {
        client,
        criteria,
        format,
        config_output,
    } = args.criteria.prepare()?;
    let recipe = client.recipe(&criteria)?;
    let text = render_owned(to_value(&recipe), format);
    write_output(
        args.output.as_deref().or(config_output.as_deref()),
        text.as_bytes(),
    )
}

fn query(args: QueryArgs) -> Result<()> {
    let Resolved {
        client,
        criteria,
        format,
        ..
    } = args.criteria.prepare()?;
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

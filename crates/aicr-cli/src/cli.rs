//! Commands, flags, outputs and exit statuses.

use std::ffi::OsString;
use std::path::PathBuf;

use aicr::{
    Client, CriteriaFlags, Error, Output, RecipeRequest, RecipeResult, RecipeView, Result, escape,
};
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
    #[command(after_help = crate::bundle_cmd::BUNDLE_EXAMPLES)]
    Bundle(crate::bundle_cmd::BundleArgs),
    /// Check a bundle (a directory or a pushed bundle): its checksums and
    /// attestation; report its trust level.
    #[command(after_help = crate::bundle_cmd::VERIFY_EXAMPLES)]
    Verify(crate::bundle_cmd::VerifyArgs),
    /// Download a bundle pushed to an OCI registry into a directory.
    #[command(after_help = PULL_EXAMPLES)]
    Pull(crate::oci_cmd::PullArgs),
    /// Check a recipe's constraints against a snapshot; CTRF JSON report.
    Validate(crate::check_cmd::ValidateArgs),
    /// Show what changed between two snapshots.
    Diff(crate::check_cmd::DiffArgs),
    /// Capture what a GPU node and its cluster are.
    Snapshot(crate::snapshot_cmd::SnapshotArgs),
    /// Write an agent skill file that teaches an AI coding assistant
    /// (Claude Code, Codex) to use this CLI.
    #[command(after_help = crate::skill_cmd::SKILL_EXAMPLES)]
    Skill(crate::skill_cmd::SkillArgs),
    /// Serve aicr to AI assistants over the Model Context Protocol
    /// (read-only tools: recipes, queries, bundles in memory, lint,
    /// validate, diff).
    #[command(after_help = crate::mcp_cmd::MCP_EXAMPLES)]
    Mcp(crate::mcp_cmd::McpArgs),
}

/// The command tree as clap knows it (for generated documentation).
pub(crate) fn command_tree() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

const PULL_EXAMPLES: &str = "Examples:
  aicr pull oci://ghcr.io/acme/gpu-bundle:v1 -o ./bundle
  aicr pull oci://ghcr.io/acme/gpu-bundle@sha256:<digest> -o ./bundle --force
  aicr pull oci://localhost:5000/gpu/bundle:dev --plain-http -o ./bundle";

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
    /// Number of GPU nodes (0 means any; negative is refused).
    #[arg(long, allow_negative_numbers = true)]
    nodes: Option<i64>,
    /// Snapshot (file, `-` or http(s) URL) to derive criteria from; flags
    /// and --config override them. Matching overlays whose constraints
    /// fail against its readings are left out, with warnings.
    #[arg(short = 's', long)]
    snapshot: Option<String>,
    #[command(flatten)]
    source: CatalogArgs,
    /// AICRConfig file or http(s) URL giving defaults for these flags;
    /// explicit flags win.
    #[arg(long, value_name = "FILE|URL")]
    config: Option<String>,
    /// Output format: yaml, json, table [default: yaml]; `aicr recipe`
    /// also draws the deployment graph: dot (Graphviz) or mermaid.
    #[arg(short = 't', long)]
    format: Option<String>,
}

impl CriteriaArgs {
    fn request(self, output: Option<String>) -> RecipeRequest {
        RecipeRequest {
            criteria: CriteriaFlags {
                service: self.service,
                accelerator: self.accelerator,
                os: self.os,
                intent: self.intent,
                platform: self.platform,
                nodes: self.nodes,
            },
            config: self.config,
            snapshot: self.snapshot,
            format: self.format,
            output,
            catalog: self.source.catalog,
            data: self.source.data,
        }
    }
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
    /// Print why the recipe is what it is instead of the recipe: every
    /// overlay and whether it matched, the leaves and their chains, and
    /// the documents behind each component field, constraint and value
    /// (yaml, json or table).
    #[arg(long)]
    explain: bool,
}

#[derive(Debug, Args)]
struct QueryArgs {
    #[command(flatten)]
    criteria: CriteriaArgs,
    /// Dot path into the hydrated recipe (`components.gpu-operator.values`); `.` for all.
    #[arg(long, required = true)]
    selector: String,
    /// Print the history of the selected part instead of its value: for
    /// `components.NAME.values.PATH`, every source that set each value
    /// under PATH, in order (the last one wins), and the values deleted.
    #[arg(long)]
    explain: bool,
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
        Some(Command::Pull(args)) => crate::oci_cmd::pull(args),
        Some(Command::Validate(args)) => crate::check_cmd::validate(args),
        Some(Command::Diff(args)) => crate::check_cmd::diff(args),
        Some(Command::Snapshot(args)) => crate::snapshot_cmd::snapshot(args, cli.debug),
        Some(Command::Skill(args)) => crate::skill_cmd::skill(args),
        Some(Command::Mcp(args)) => crate::mcp_cmd::mcp(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            note(&e.to_string());
            e.exit_status()
        }
    }
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
            note(&err.to_string());
            err.exit_status()
        }
        // The reference treats an unknown command word as a missing help topic.
        ErrorKind::InvalidSubcommand => {
            let word = e
                .get(ContextKind::InvalidSubcommand)
                .map(|a| a.to_string())
                .unwrap_or_default();
            note(&format!("No help topic for '{word}'"));
            3
        }
        _ => {
            let _ = e.print();
            1
        }
    }
}

fn recipe(args: RecipeArgs) -> Result<()> {
    let plan = args.criteria.request(args.output).plan()?;
    let client = Client::open(&plan.catalog)?;
    if args.explain {
        let format = plan.format()?;
        let (recipe, explanation) = client.explain(&plan.criteria, plan.snapshot.as_ref())?;
        warn_excluded(&recipe);
        let text = client.render_explanation(&explanation, "", format)?;
        return plan.output.write(text.as_bytes());
    }
    let recipe = client.recipe_with(&plan.criteria, plan.snapshot.as_ref())?;
    warn_excluded(&recipe);
    let text = client.render_recipe(&recipe, plan.view)?;
    match plan.view {
        RecipeView::Document(format) => {
            client.write_output_blocking(&plan.output, format, &text, now())
        }
        RecipeView::Dot | RecipeView::Mermaid => plan.output.write(text.as_bytes()),
    }
}

fn query(args: QueryArgs) -> Result<()> {
    let plan = args.criteria.request(None).plan()?;
    let client = Client::open(&plan.catalog)?;
    if args.explain {
        let (recipe, explanation) = client.explain(&plan.criteria, plan.snapshot.as_ref())?;
        warn_excluded(&recipe);
        let text = client.render_explanation(&explanation, &args.selector, plan.format()?)?;
        return Output::Stdout.write(text.as_bytes());
    }
    let recipe = client.recipe_with(&plan.criteria, plan.snapshot.as_ref())?;
    warn_excluded(&recipe);
    let selected = client.query_recipe(&recipe, &args.selector)?;
    Output::Stdout.write(plan.format()?.render_selected(&selected).as_bytes())
}

/// One stderr line per constraint that left an overlay out, so a recipe
/// that is less specific than the criteria asked for never goes unnoticed.
fn warn_excluded(recipe: &RecipeResult) {
    for w in &recipe.metadata.constraint_warnings {
        note(&format!(
            "warning: overlay {} excluded by constraint {}: {}",
            w.overlay,
            escape(&w.constraint),
            escape(&w.reason)
        ));
    }
}

/// Seconds since the epoch: the clock is read here, at the edge, and
/// passed in (ConfigMap timestamps, snapshot start).
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Writes a line to stderr. A closed or full stderr must not turn into a
/// panic: the exit status still tells the caller what happened.
pub(crate) fn note(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

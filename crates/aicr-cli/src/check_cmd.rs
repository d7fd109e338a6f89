//! `aicr validate` and `aicr diff`: flag parsing and printing around the
//! facade's `validate` and `diff`.

use aicr::{Client, Code, Error, Format, Input, Output, Result, ValidateRequest};
use clap::Args;

use crate::cli::CatalogArgs;

/// `aicr validate` flags.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Recipe to check: file, `-`, http(s) URL or cm://namespace/name.
    #[arg(short = 'r', long, required = true)]
    recipe: String,
    /// Snapshot to check against: file, `-`, http(s) URL or
    /// cm://namespace/name. Capturing
    /// one from a live cluster is not supported yet.
    #[arg(short = 's', long)]
    snapshot: Option<String>,
    /// Phases: deployment, performance, conformance or all (repeatable,
    /// comma-separated). Checked on a cluster; without a cluster, use
    /// --no-cluster to list their checks as skipped.
    #[arg(long, value_delimiter = ',')]
    phase: Vec<String>,
    /// Do not use a cluster: check the snapshot and list the phases'
    /// checks as skipped.
    #[arg(long)]
    no_cluster: bool,
    /// Exit with a failure status when a test fails (the report is
    /// written first).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    fail_on_error: bool,
    #[command(flatten)]
    source: CatalogArgs,
    /// Destination of the CTRF JSON report: a file, `-` or nothing for
    /// stdout, or cm://namespace/name.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Kubeconfig for cm:// sources and destinations [default:
    /// $KUBECONFIG, ~/.kube/config, in-cluster].
    #[arg(short = 'k', long)]
    kubeconfig: Option<std::path::PathBuf>,
}

/// `aicr diff` flags.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot: file, `-`, http(s) URL or cm://namespace/name.
    #[arg(short = 'b', long)]
    baseline: Option<String>,
    /// The later snapshot: file, `-`, http(s) URL or cm://namespace/name.
    #[arg(long)]
    target: Option<String>,
    /// Exit with CONFLICT's status when anything drifted (the report is
    /// written first).
    #[arg(long)]
    fail_on_drift: bool,
    /// Output format: yaml, json, table [default: yaml].
    #[arg(short = 't', long)]
    format: Option<String>,
    /// Destination: a file, `-` or nothing for stdout, or
    /// cm://namespace/name.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Kubeconfig for cm:// sources and destinations [default:
    /// $KUBECONFIG, ~/.kube/config, in-cluster].
    #[arg(short = 'k', long)]
    kubeconfig: Option<std::path::PathBuf>,
}

/// Runs `aicr validate`.
pub fn validate(args: ValidateArgs) -> Result<()> {
    let request = ValidateRequest {
        phases: args.phase,
        no_cluster: args.no_cluster,
    };
    let recipe_input = Input::parse(&args.recipe)?;
    let snapshot_input = match &args.snapshot {
        Some(s) => Input::parse(s)?,
        None => {
            return Err(Error::invalid(
                "capturing a snapshot from a live cluster is not supported yet: pass --snapshot FILE (a snapshot written by `aicr snapshot`)",
            ));
        }
    };
    if recipe_input == Input::Stdin && snapshot_input == Input::Stdin {
        return Err(Error::invalid(
            "--recipe and --snapshot cannot both read standard input",
        ));
    }
    let output = Output::parse(args.output.as_deref().unwrap_or("-"))?;
    let catalog = aicr::CatalogSource::choose(args.source.catalog, args.source.data, None);
    let client = Client::open(&catalog)?.with_kubeconfig(args.kubeconfig);
    let recipe = client.read_recipe_blocking(&recipe_input)?;
    let snapshot = client.read_snapshot_blocking(&snapshot_input)?;
    let report = client.validate(&recipe, &snapshot, &request)?;
    let text = Format::Json.render(&report);
    client.write_output_blocking(&output, Format::Json, &text, crate::cli::now())?;
    let summary = &report.results.summary;
    if args.fail_on_error && report.has_failures() {
        return Err(Error::new(
            Code::Internal,
            format!(
                "validation failed: {} of {} tests failed",
                summary.failed, summary.tests
            ),
        ));
    }
    Ok(())
}

/// Runs `aicr diff`.
pub fn diff(args: DiffArgs) -> Result<()> {
    let baseline = args
        .baseline
        .ok_or_else(|| Error::invalid("--baseline is required"))?;
    let target = args
        .target
        .ok_or_else(|| Error::invalid("--target is required"))?;
    let (b_input, t_input) = (Input::parse(&baseline)?, Input::parse(&target)?);
    if b_input == Input::Stdin && t_input == Input::Stdin {
        return Err(Error::invalid(
            "--baseline and --target cannot both read standard input",
        ));
    }
    let format = Format::parse(args.format.as_deref().unwrap_or("yaml"))?;
    let output = Output::parse(args.output.as_deref().unwrap_or("-"))?;
    let client = Client::embedded()?.with_kubeconfig(args.kubeconfig);
    let report = client.diff(
        (&client.read_snapshot_blocking(&b_input)?, &baseline),
        (&client.read_snapshot_blocking(&t_input)?, &target),
    );
    let text = match format {
        Format::Table => report.render_table(),
        other => other.render(&report),
    };
    if format == Format::Table && matches!(output, Output::ConfigMap { .. }) {
        return Err(Error::invalid(
            "table output cannot be written to a ConfigMap",
        ));
    }
    client.write_output_blocking(&output, format, &text, crate::cli::now())?;
    if args.fail_on_drift && report.has_drift() {
        return Err(Error::new(
            Code::Conflict,
            format!("drift detected: {} change(s) found", report.summary.total),
        ));
    }
    Ok(())
}

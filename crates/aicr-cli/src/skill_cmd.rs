//! `aicr skill --agent claude-code|codex`: an agent skill file that
//! teaches a coding assistant to use this CLI. The command reference is
//! generated from the live clap command tree, so it never drifts from the
//! binary; both agents get the same text, in their own skills directory.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};

use aicr::{Accelerator, Code, Error, Intent, Os, Output, Platform, Result, Service, escape};
use clap::Args;

/// Flags of `aicr skill`.
#[derive(Debug, Args)]
pub struct SkillArgs {
    /// The assistant to write the skill for: claude-code or codex.
    #[arg(long, required = true, value_name = "AGENT")]
    agent: String,
    /// Print the skill to stdout instead of writing the file.
    #[arg(long)]
    stdout: bool,
    /// Overwrite an existing skill file without asking.
    #[arg(long)]
    force: bool,
}

/// `aicr skill --help` examples.
pub const SKILL_EXAMPLES: &str = "Examples:
  aicr skill --agent claude-code            # ~/.claude/skills/aicr/SKILL.md
  aicr skill --agent codex --force          # ~/.codex/skills/aicr/SKILL.md
  aicr skill --agent claude-code --stdout   # print it instead";

/// Runs `aicr skill`.
pub fn skill(args: SkillArgs) -> Result<()> {
    let dir = match args.agent.trim() {
        "claude-code" => ".claude",
        "codex" => ".codex",
        other => {
            return Err(Error::invalid(format!(
                "unknown agent {:?}: valid agents are claude-code, codex",
                escape(other)
            )));
        }
    };
    let text = render(&crate::cli::command_tree());
    if args.stdout {
        return Output::Stdout.write(text.as_bytes());
    }
    let path = home()?.join(dir).join("skills/aicr/SKILL.md");
    let shown = escape(&path.display().to_string());
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Error::invalid(format!(
                "{shown} is a symbolic link; refusing to write through it"
            )));
        }
        Ok(_) if !args.force => {
            if !std::io::stdin().is_terminal() {
                return Err(Error::invalid(format!(
                    "skill file already exists at {shown} (use --force to overwrite)"
                )));
            }
            if !confirm()? {
                println!("Aborted; {shown} left unchanged.");
                return Ok(());
            }
        }
        _ => {}
    }
    if let Some(parent) = path.parent() {
        create_dirs(parent)?;
    }
    Output::File(path.clone()).write(text.as_bytes())?;
    println!("Skill file written to {shown}");
    Ok(())
}

/// The home directory, from `$HOME`.
#[allow(clippy::disallowed_methods)] // the edge reads the environment
fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| Error::invalid("HOME is not set: use --stdout and write the file yourself"))
}

/// `mkdir -p` with mode 0755 for what it creates.
fn create_dirs(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    builder.create(dir).map_err(|e| {
        Error::new(
            Code::Internal,
            format!("creating {}", escape(&dir.display().to_string())),
        )
        .with_source(e)
    })
}

/// `overwrite? [y/N]: ` on a terminal; `y` or `yes`, in any case, is yes.
fn confirm() -> Result<bool> {
    eprint!("overwrite? [y/N]: ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::new(Code::Internal, "reading the answer").with_source(e))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The skill document for the command tree `root`.
pub fn render(root: &clap::Command) -> String {
    let mut out = String::new();
    out.push_str("---\nname: aicr\n");
    out.push_str(
        "description: Use the aicr CLI (AI Cluster Runtime) to answer what to deploy on a GPU \
         Kubernetes cluster and why: resolve validated, version-locked recipes from criteria \
         (service, accelerator, OS, intent, platform), query single values, draw the install \
         order, render bundles for Helm, Helmfile, Argo CD and Flux, verify them, and check \
         recipes against node snapshots. Prefer calling aicr over guessing versions or values.\n",
    );
    out.push_str("user_invocable: true\n---\n\n");
    let _ = writeln!(out, "# AICR CLI ({})\n", aicr::VERSION);
    out.push_str(PREREQUISITES);
    out.push_str("## Command reference\n\n");
    out.push_str("Generated from the command tree of this binary.\n\n");
    for sub in root.get_subcommands() {
        command(&mut out, sub, "aicr");
    }
    out.push_str("## Criteria values\n\n");
    for (name, values) in [
        ("--service", Service::VALUES),
        ("--accelerator", Accelerator::VALUES),
        ("--os", Os::VALUES),
        ("--intent", Intent::VALUES),
        ("--platform", Platform::VALUES),
    ] {
        let _ = writeln!(out, "- `{name}`: {}", values.join(", "));
    }
    out.push_str(
        "\nA criterion left out matches only overlays that leave it open too: fewer \
         criteria give a more general recipe, never a silently specialised one.\n\n",
    );
    out.push_str(GUIDANCE);
    out.push_str("## Error handling\n\n");
    out.push_str(
        "Failures print one line on stderr, `[CODE] message: cause`, and exit with the \
         code's status. Nothing is half-written: outputs appear whole or not at all.\n\n",
    );
    out.push_str("| code | exit status |\n|---|---|\n");
    for code in [
        Code::InvalidRequest,
        Code::Conflict,
        Code::NotFound,
        Code::Unauthorized,
        Code::Timeout,
        Code::ServiceUnavailable,
        Code::RateLimitExceeded,
        Code::Internal,
    ] {
        let _ = writeln!(out, "| `{}` | {} |", code.as_str(), code.exit_status());
    }
    out.push('\n');
    out.push_str(PRACTICES);
    out
}

/// One command (and its subcommands) as a section with its flags.
fn command(out: &mut String, cmd: &clap::Command, parent: &str) {
    if cmd.is_hide_set() || cmd.get_name() == "help" {
        return;
    }
    let path = format!("{parent} {}", cmd.get_name());
    let _ = writeln!(out, "### `{path}`\n");
    if let Some(about) = cmd.get_about() {
        let _ = writeln!(out, "{about}\n");
    }
    let args: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help" | "version"))
        .collect();
    if !args.is_empty() {
        out.push_str("| flag | meaning |\n|---|---|\n");
        for arg in args {
            let _ = writeln!(
                out,
                "| `{}` | {} |",
                usage(arg).replace('|', "\\|"),
                help(arg)
            );
        }
        out.push('\n');
    }
    if let Some(after) = cmd.get_after_help() {
        let _ = writeln!(out, "```text\n{after}\n```\n");
    }
    for sub in cmd.get_subcommands() {
        command(out, sub, &path);
    }
}

/// `-o, --output <FILE>` or `<DIR>` for a positional.
fn usage(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().as_str().to_ascii_uppercase());
    let takes_value = arg.get_action().takes_values();
    let Some(long) = arg.get_long() else {
        return match arg.get_short() {
            Some(short) if takes_value => format!("-{short} <{value}>"),
            Some(short) => format!("-{short}"),
            None => format!("<{value}>"),
        };
    };
    let mut text = match arg.get_short() {
        Some(short) => format!("-{short}, --{long}"),
        None => format!("--{long}"),
    };
    if takes_value {
        let _ = write!(text, " <{value}>");
    }
    text
}

/// The flag's help on one line, safe inside a table cell.
fn help(arg: &clap::Arg) -> String {
    let text = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if arg.is_required_set() {
        line.push_str(" (required)");
    }
    line.replace('|', "\\|")
}

const PREREQUISITES: &str = "## Prerequisites

- The `aicr` binary on `PATH` (one static binary; its recipe catalog is
  embedded, so `recipe`, `query`, `bundle`, `verify`, `validate` and `diff`
  need no network and no cluster).
- `snapshot` (agent mode) and `cm://namespace/name` inputs and outputs need
  a kubeconfig (`-k`, `$KUBECONFIG`, `~/.kube/config` or in-cluster).
- `bundle -o oci://...`, `pull` and `verify oci://...` need the registry;
  `--vendor-charts` needs the chart repositories.

";

const GUIDANCE: &str = "## Output formats

- `-t yaml` (default, sorted keys) for people and diffs; `-t json` for
  tools and `jq`; `-t table` for a quick look.
- `aicr recipe -t dot` (Graphviz) and `-t mermaid` draw the components,
  their dependencies and the install tiers.
- `aicr query --selector <dot.path>` prints one value of the hydrated
  recipe; scalars print as plain text.

## Workflows

- What would be deployed, and at which versions:
  `aicr recipe --service gke --accelerator h100 --intent inference -t json`.
- One value: `aicr query --service eks --accelerator h100 --intent training
  --selector components.gpu-operator.values.driver.version`.
- A bundle: `aicr recipe ... -o recipe.yaml`, then
  `aicr bundle -r recipe.yaml -d argocd --repo <git url> -o ./bundle`, then
  `aicr verify ./bundle`.
- Air-gapped: `aicr bundle -r recipe.yaml --vendor-charts --attest
  --signing-key key.pem -o oci://registry/repo:tag`; on the other side
  `aicr pull oci://registry/repo:tag -o ./bundle` and
  `aicr verify ./bundle --public-key key.pub`.
- A cluster check: `aicr snapshot -o snapshot.yaml`, then
  `aicr validate -r recipe.yaml -s snapshot.yaml`; drift:
  `aicr diff -b before.yaml --target after.yaml`.

";

const PRACTICES: &str = "## Best practices

- Quote the command you ran and its output; do not paraphrase versions.
- Give every criterion you know: a missing one gives a more general recipe.
- Read `metadata.appliedOverlays` to say which overlays shaped a recipe,
  and `metadata.constraintWarnings` when a snapshot left one out.
- Never edit a generated bundle by hand; re-run `aicr bundle` with `--set`
  or `--dynamic`, then `aicr verify`.
- aicr generates artifacts; it never deploys them. Deploying is the user's
  step (`deploy.sh`, `helmfile apply`, Argo CD or Flux).
";

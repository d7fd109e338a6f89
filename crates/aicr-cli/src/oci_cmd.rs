//! `aicr pull` and the registry flags shared by `bundle`, `pull` and
//! `verify`: flags in, facade calls, a line on stderr out.

use std::io::Read;
use std::path::PathBuf;

use aicr::{Client, Error, PullCommand, RegistryOptions, Result};
use clap::Args;

/// How to reach an OCI registry.
#[derive(Debug, Args)]
pub(crate) struct RegistryArgs {
    /// Talk plain HTTP to the registry (a local registry without TLS).
    #[arg(long)]
    plain_http: bool,
    /// Accept any TLS certificate from the registry (self-signed; the
    /// connection is encrypted but the server is not authenticated).
    #[arg(long)]
    insecure_tls: bool,
    /// Registry user name; the password comes from standard input
    /// (--registry-password-stdin). Without it, the Docker config's
    /// `auths` entry is used, if any.
    #[arg(long, value_name = "USER", requires = "registry_password_stdin")]
    registry_username: Option<String>,
    /// Read the registry password from the first line of standard input.
    #[arg(long, requires = "registry_username")]
    registry_password_stdin: bool,
}

impl RegistryArgs {
    /// Whether the password is read from standard input.
    pub(crate) fn reads_stdin(&self) -> bool {
        self.registry_password_stdin
    }

    /// The facade's options: the password read now, the Docker config
    /// file found from the environment (`$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`).
    pub(crate) fn options(self) -> Result<RegistryOptions> {
        let password = if self.registry_password_stdin {
            Some(read_password()?)
        } else {
            None
        };
        Ok(RegistryOptions {
            plain_http: self.plain_http,
            insecure_tls: self.insecure_tls,
            username: self.registry_username,
            password,
            docker_config: docker_config_path(),
            timeout: None,
        })
    }
}

/// The first line of standard input, without its line ending.
fn read_password() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| {
            Error::invalid("reading the registry password from standard input").with_source(e)
        })?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(Error::invalid(
            "--registry-password-stdin: standard input holds no password",
        ));
    }
    Ok(line)
}

#[allow(clippy::disallowed_methods)] // the edge reads the environment
pub(crate) fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker/config.json"))
}

/// Flags of `aicr pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The bundle: oci://registry/repository[:tag|@sha256:...]; a missing
    /// tag is this CLI's version.
    #[arg(value_name = "OCI_REF")]
    reference: String,
    /// Directory to write the bundle to (default `./bundle`).
    #[arg(short = 'o', long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Replace an existing non-empty directory that is not a previous bundle.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs `aicr pull`.
pub fn pull(args: PullArgs) -> Result<()> {
    let plan = PullCommand {
        reference: args.reference,
        output: args.output,
        force: args.force,
        registry: args.registry.options()?,
    }
    .plan()?;
    let client = Client::embedded()?;
    let pulled = client.pull_bundle_blocking(&plan.reference, &plan.registry)?;
    client.write_bundle(&pulled.tree, &plan.output, plan.force)?;
    crate::cli::note(&format!(
        "pulled {}@{} into {} ({} files)",
        plan.reference,
        pulled.digest,
        plan.output.display(),
        pulled.tree.len()
    ));
    Ok(())
}

//! `aicr`: the facade. One [`Client`] composes the library crates; the CLI
//! and the server wrap it and hold no business logic.
//!
//! Frontends fill in a request ([`RecipeRequest`], [`BundleCommand`],
//! [`BundleRequest`]), let it apply the rules ([`RecipeRequest::plan`]),
//! open a [`Client`] on the planned [`CatalogSource`], and call its
//! methods. Pure operations (`recipe`, `query`, `render_bundle`) are
//! synchronous; operations that reach the network (`fetch_manifests`,
//! reading an `http(s)://` [`Input`]) are async on tokio, with blocking
//! wrappers that start a runtime only when one is needed.
//!
//! ```
//! use aicr::{Client, CriteriaFlags, RecipeRequest};
//!
//! let request = RecipeRequest {
//!     criteria: CriteriaFlags {
//!         service: Some("eks".into()),
//!         accelerator: Some("h100".into()),
//!         intent: Some("training".into()),
//!         ..CriteriaFlags::default()
//!     },
//!     ..RecipeRequest::default()
//! };
//! let plan = request.plan().unwrap();
//! let client = Client::open(&plan.catalog).unwrap();
//! let recipe = client.recipe(&plan.criteria).unwrap();
//! assert!(recipe.deployment_order.contains(&"gpu-operator".to_string()));
//! let text = client.render_recipe(&recipe, plan.view).unwrap();
//! assert!(text.contains("gpu-operator"));
//! ```

mod agent;
mod charts;
mod client;
mod cluster;
mod http;
mod inline;
mod io;
pub mod oci;
mod request;
mod schema;
mod snapshot;

pub use agent::{AgentRequest, default_image};
pub use aicr_bundle::checksum::sha256_hex;
pub use aicr_collect::k8s::node_name_from_env as node_name;
pub use aicr_core::yaml::{SortedKeys, to_value};
pub use charts::ChartFetch;
pub use client::{Client, read_public_key, read_signing_key};
pub use inline::{
    BundleFile, CriteriaValues, ExplainRequest, InlineDiffRequest, InlineValidateRequest,
    NoArguments, QueryRequest, RenderRequest, RenderedBundle, criteria_values,
};
pub use io::{Input, MAX_DOCUMENT_BYTES, Output};
pub use oci::{OciReference, Pulled, Pushed, RegistryOptions};
pub use request::{
    BundleCommand, BundlePlan, BundleRequest, BundleTarget, CatalogSource, CriteriaFlags,
    OCI_LAYOUT_PREFIX, PullCommand, PullPlan, RecipePlan, RecipeRequest, RecipeView,
    ValidateRequest, criteria_document, load_config, query_document,
};
pub use schema::api_schemas;
pub use snapshot::SnapshotRequest;

pub use aicr_bundle::verify::{Finding, Problem as VerifyProblem};
pub use aicr_bundle::{
    BundleOptions, Deployer, FetchedCharts, FileTree, VendoredChart, VerifyReport,
};
pub use aicr_bundle::{Policy as VerifyPolicy, PublicKey, Signing, SigningKey, TrustLevel};
pub use aicr_collect::cluster::agent::{AgentOptions, AgentPhase, AgentProgress};
pub use aicr_core::catalog::FetchedFiles;
pub use aicr_core::criteria::{Accelerator, Intent, Os, Platform, Service};
pub use aicr_core::diff::{Change, ChangeKind, DiffReport};
pub use aicr_core::error::escape;
pub use aicr_core::fingerprint::Fingerprint;
pub use aicr_core::lint::{LintReport, Problem as LintProblem};
pub use aicr_core::snapshot::{
    Measurement, MeasurementType, Reading, Snapshot, SourceState, SourceStatus, Subtype,
};
pub use aicr_core::time::rfc3339;
pub use aicr_core::validate::{CtrfReport, CtrfTest, Phase, TestStatus};
pub use aicr_core::{Code, Criteria, Error, RecipeResult, Result};

/// Version stamped into `metadata.version` of every recipe.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// Output formats of documents.
pub use aicr_core::output::Format;

/// Runs `future` to completion on the process's single-threaded tokio
/// runtime: the bridge for synchronous frontends (the CLI) to the async
/// operations. One runtime for the process, because a Kubernetes client
/// made in one call only works on the runtime it was made on. An async
/// caller (the server) awaits the operations instead.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a single-threaded tokio runtime needs only an epoll instance")
        })
        .block_on(future)
}

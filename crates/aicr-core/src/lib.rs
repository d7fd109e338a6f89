//! `aicr-core`: the pure heart of AICR. Documents, catalog loading through a
//! [`DataProvider`], criteria matching, maximal-leaf resolution, inheritance
//! and mixin merge, deployment order, value merging, the query selector and
//! the one error type with stable codes. No async, no network, no processes.
//!
//! ```
//! use aicr_core::{Catalog, Criteria, EmbeddedProvider, resolve};
//! use aicr_core::criteria::{Service, Accelerator, Intent};
//!
//! let catalog = Catalog::load(Box::new(EmbeddedProvider)).unwrap();
//! let query = Criteria {
//!     service: Service::Eks,
//!     accelerator: Accelerator::H100,
//!     intent: Intent::Training,
//!     ..Criteria::default()
//! };
//! let recipe = resolve(&catalog, &query, "v0.1.0").unwrap();
//! assert_eq!(recipe.metadata.applied_overlays[0], "base");
//! ```

pub mod catalog;
pub mod config;
pub mod criteria;
pub mod diff;
mod embedded;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod fingerprint;
pub mod graph;
pub mod header;
pub mod ident;
pub mod lint;
pub mod load;
pub mod measurement;
pub mod model;
pub mod order;
pub mod output;
pub mod provider;
pub mod query;
pub mod recipe;
pub mod resolve;
pub mod schema;
pub mod snapshot;
pub mod suggest;
pub mod time;
pub mod validate;
pub mod values;
pub mod version;
pub mod yaml;

pub use catalog::{Catalog, Components};
pub use criteria::Criteria;
pub use error::{Code, Error, Result};
pub use provider::{DataProvider, DirProvider, EmbeddedProvider, LayeredProvider};
pub use recipe::{RecipeResult, ResolvedComponent};
pub use resolve::{resolve, resolve_with};

//! Integration tests of the facade, one module per capability.

// Tests may write files, read the environment and spawn processes; the
// clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

mod boundaries;
mod conformance;
mod explain;
mod facade;
mod hydrated;
mod snapshots;
mod support;
mod vendor;

//! End-to-end tests of the `aicr` binary, one module per command.

// Tests may write files, read the environment and spawn processes; the
// clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

mod agent;
mod attest;
mod bundle;
mod check;
mod explain;
mod external;
mod graph;
mod lint;
mod malformed;
mod mcp;
mod oci;
mod real_tools;
mod recipe;
mod recipe_snapshot;
mod skill;
mod snapshot;
mod support;
mod vendor;

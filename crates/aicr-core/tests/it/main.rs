//! Integration tests of aicr-core, one module per capability.

// Tests may write files, read the environment and spawn processes; the
// clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

mod lint;
mod recipe_result;
mod resolve_snapshot;
mod schema;

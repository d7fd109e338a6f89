//! Integration tests of aicr-core, one module per capability.

mod lint;
mod schema;

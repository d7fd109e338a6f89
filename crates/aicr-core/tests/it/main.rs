//! Integration tests of aicr-core, one module per capability.

mod lint;
mod recipe_result;
mod schema;

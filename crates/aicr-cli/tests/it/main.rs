//! End-to-end tests of the `aicr` binary, one module per command.

mod bundle;
mod lint;
mod recipe;
mod support;

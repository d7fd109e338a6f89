//! End-to-end tests of the `aicr` binary, one module per command.

mod lint;
mod recipe;
mod support;

//! End-to-end tests of the `aicr` binary, one module per command.

mod bundle;
mod external;
mod lint;
mod real_tools;
mod recipe;
mod support;

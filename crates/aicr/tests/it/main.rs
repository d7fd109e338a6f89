//! Integration tests of the facade, one module per capability.

mod conformance;
mod hydrated;
mod support;

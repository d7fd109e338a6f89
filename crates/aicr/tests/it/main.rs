//! Integration tests of the facade, one module per capability.

mod conformance;
mod support;

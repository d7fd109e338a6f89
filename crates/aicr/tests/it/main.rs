//! Integration tests of the facade, one module per capability.

mod boundaries;
mod conformance;
mod facade;
mod hydrated;
mod snapshots;
mod support;

//! Integration tests of aicr-bundle, one module per capability.

mod argocd_helm;
mod corpus;
mod determinism;
mod gotmpl;
mod support;
mod verify;
mod write;

//! Integration tests of aicr-collect, one module per source. A test whose
//! doc comment says `Case N` checks that numbered case of the reference's
//! snapshot behaviour (section 8 of the snapshot spec).

// Tests may write files, read the environment and spawn processes; the
// clippy.toml rules are for library code.
#![allow(clippy::disallowed_methods)]

mod agent_options;
mod cluster_agent;
mod cluster_configmap;
mod cluster_fetch;
mod gpu;
mod k8s;
mod os;
mod run;
mod run_cluster;
mod support;
mod systemd;
mod talos;
mod topology;

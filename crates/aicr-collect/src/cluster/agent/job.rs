//! The agent's Job and RBAC objects (spec §5.3 d, §5.4), built as pure
//! functions of [`AgentOptions`].

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, HostPathVolumeSource,
    LocalObjectReference, Namespace, ObjectFieldSelector, PodSecurityContext, PodSpec,
    PodTemplateSpec, ResourceRequirements, SeccompProfile, SecurityContext, ServiceAccount, Volume,
    VolumeMount,
};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::AgentOptions;
use aicr_core::criteria::Os;

/// The label on the Job and its pods; log streaming finds the pod by it.
pub const APP_LABEL: (&str, &str) = ("app.kubernetes.io/name", "aicr");
/// The label put on the namespace.
pub const MANAGED_BY_LABEL: (&str, &str) = ("app.kubernetes.io/managed-by", "aicr");
/// The ClusterRole and ClusterRoleBinding name (global: concurrent runs in
/// different namespaces share it, as in the reference).
pub const CLUSTER_ROLE_NAME: &str = "aicr-node-reader";
/// Seconds a finished Job is kept.
pub const TTL_SECONDS_AFTER_FINISHED: i32 = 3600;
/// Seconds a Job may run at all (5 h).
pub const ACTIVE_DEADLINE_SECONDS: i64 = 18_000;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(String::from),
        ..ObjectMeta::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn rule(group: &str, resource: &str, verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(&[group])),
        resources: Some(strings(&[resource])),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

/// The namespace, labelled as managed by aicr.
pub fn namespace(opts: &AgentOptions) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            labels: Some(labels(&[MANAGED_BY_LABEL])),
            ..meta(&opts.namespace, None)
        },
        ..Namespace::default()
    }
}

/// The pod's ServiceAccount.
pub fn service_account(opts: &AgentOptions) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(&opts.service_account_name, Some(&opts.namespace)),
        ..ServiceAccount::default()
    }
}

/// The Role: write the snapshot ConfigMap, read pods.
pub fn role(opts: &AgentOptions) -> Role {
    Role {
        metadata: meta(&opts.service_account_name, Some(&opts.namespace)),
        rules: Some(vec![
            rule("", "configmaps", &["create", "get", "update", "patch"]),
            rule("", "pods", &["get", "list"]),
        ]),
    }
}

fn subject(opts: &AgentOptions) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: opts.service_account_name.clone(),
        namespace: Some(opts.namespace.clone()),
        ..Subject::default()
    }
}

/// The RoleBinding of the ServiceAccount to the Role.
pub fn role_binding(opts: &AgentOptions) -> RoleBinding {
    RoleBinding {
        metadata: meta(&opts.service_account_name, Some(&opts.namespace)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: opts.service_account_name.clone(),
        },
        subjects: Some(vec![subject(opts)]),
    }
}

/// The ClusterRole: read nodes, pods and ClusterPolicies.
pub fn cluster_role() -> ClusterRole {
    ClusterRole {
        metadata: meta(CLUSTER_ROLE_NAME, None),
        rules: Some(vec![
            rule("", "nodes", &["get", "list"]),
            rule("", "pods", &["get", "list"]),
            rule("nvidia.com", "clusterpolicies", &["get", "list"]),
        ]),
        ..ClusterRole::default()
    }
}

/// The ClusterRoleBinding of the ServiceAccount to the ClusterRole.
pub fn cluster_role_binding(opts: &AgentOptions) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(CLUSTER_ROLE_NAME, None),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: CLUSTER_ROLE_NAME.into(),
        },
        subjects: Some(vec![subject(opts)]),
    }
}

/// The agent Job of spec §5.4.
pub fn build_job(opts: &AgentOptions) -> Job {
    let pod_labels = Some(labels(&[APP_LABEL]));
    Job {
        metadata: ObjectMeta {
            labels: pod_labels.clone(),
            ..meta(&opts.job_name, Some(&opts.namespace))
        },
        spec: Some(JobSpec {
            completions: Some(1),
            parallelism: Some(1),
            completion_mode: Some("NonIndexed".into()),
            backoff_limit: Some(0),
            ttl_seconds_after_finished: Some(TTL_SECONDS_AFTER_FINISHED),
            active_deadline_seconds: Some(ACTIVE_DEADLINE_SECONDS),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: pod_labels,
                    ..ObjectMeta::default()
                }),
                spec: Some(pod_spec(opts)),
            },
            ..JobSpec::default()
        }),
        status: None,
    }
}

fn pod_spec(opts: &AgentOptions) -> PodSpec {
    let output = opts.output.to_string();
    let mut args = strings(&["snapshot", "-o", &output]);
    if opts.debug {
        args.splice(0..0, strings(&["--debug", "--log-json"]));
    }
    let container = Container {
        name: "aicr".into(),
        image: Some(opts.image.clone()),
        command: Some(strings(&["aicr"])),
        args: Some(args),
        env: Some(env(opts)),
        volume_mounts: Some(vec![mount("tmp", "/tmp", false)]),
        ..Container::default()
    };
    let mut spec = PodSpec {
        service_account_name: Some(opts.service_account_name.clone()),
        restart_policy: Some("Never".into()),
        node_selector: (!opts.node_selector.is_empty()).then(|| opts.node_selector.clone()),
        tolerations: Some(opts.tolerations.clone()),
        image_pull_secrets: (!opts.image_pull_secrets.is_empty()).then(|| {
            opts.image_pull_secrets
                .iter()
                .map(|name| LocalObjectReference { name: name.clone() })
                .collect()
        }),
        runtime_class_name: opts.runtime_class.clone(),
        containers: vec![container],
        volumes: Some(vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        }]),
        ..PodSpec::default()
    };
    if opts.privileged {
        privileged(&mut spec, opts);
    } else {
        restricted(&mut spec, opts);
    }
    spec
}

fn env(opts: &AgentOptions) -> Vec<EnvVar> {
    let value = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    };
    let mut env = vec![
        value("AICR_AGENT_MODE", "true"),
        value("AICR_LOG_PREFIX", "agent"),
        EnvVar {
            name: "NODE_NAME".into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "spec.nodeName".into(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
        },
    ];
    if opts.max_nodes_per_entry > 0 {
        env.push(value(
            "AICR_MAX_NODES_PER_ENTRY",
            &opts.max_nodes_per_entry.to_string(),
        ));
    }
    if let Some(os) = opts.os {
        env.push(value("AICR_OS", os.as_str()));
    }
    if opts.runtime_class.is_some() {
        env.push(value("NVIDIA_VISIBLE_DEVICES", "all"));
    }
    env
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

fn host_path(name: &str, path: &str, kind: &str) -> Volume {
    Volume {
        name: name.into(),
        host_path: Some(HostPathVolumeSource {
            path: path.into(),
            type_: Some(kind.into()),
        }),
        ..Volume::default()
    }
}

/// Default quantities with the user's per-key overrides on top (unknown
/// keys pass through).
fn resources(
    defaults: [(&str, &str); 3],
    overrides: &BTreeMap<String, Quantity>,
) -> BTreeMap<String, Quantity> {
    let mut list: BTreeMap<String, Quantity> = defaults
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect();
    list.extend(overrides.clone());
    list
}

fn privileged(spec: &mut PodSpec, opts: &AgentOptions) {
    spec.host_pid = Some(true);
    spec.host_network = Some(true);
    spec.host_ipc = Some(true);
    spec.security_context = Some(PodSecurityContext {
        run_as_user: Some(0),
        run_as_group: Some(0),
        fs_group: Some(0),
        fs_group_change_policy: Some("OnRootMismatch".into()),
        ..PodSecurityContext::default()
    });
    let requests = resources(
        [
            ("cpu", "1"),
            ("memory", "4Gi"),
            ("ephemeral-storage", "2Gi"),
        ],
        &opts.requests,
    );
    let mut limits = resources(
        [
            ("cpu", "2"),
            ("memory", "8Gi"),
            ("ephemeral-storage", "4Gi"),
        ],
        &opts.limits,
    );
    if opts.require_gpu {
        limits
            .entry("nvidia.com/gpu".into())
            .or_insert_with(|| Quantity("1".into()));
    }
    let container = &mut spec.containers[0];
    container.resources = Some(ResourceRequirements {
        requests: Some(requests),
        limits: Some(limits),
        ..ResourceRequirements::default()
    });
    container.security_context = Some(SecurityContext {
        privileged: Some(true),
        run_as_user: Some(0),
        run_as_group: Some(0),
        allow_privilege_escalation: Some(true),
        capabilities: Some(Capabilities {
            add: Some(strings(&["SYS_ADMIN", "SYS_CHROOT"])),
            drop: None,
        }),
        ..SecurityContext::default()
    });
    // Talos has no systemd and no /etc/os-release worth reading on the
    // host; its collectors read the Kubernetes API instead.
    if opts.os == Some(Os::Talos) {
        return;
    }
    let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
    mounts.push(mount("run-systemd", "/run/systemd", true));
    mounts.push(mount("host-os-release", "/etc/os-release", true));
    let volumes = spec.volumes.get_or_insert_with(Vec::new);
    volumes.push(host_path("run-systemd", "/run/systemd", "Directory"));
    volumes.push(host_path("host-os-release", "/etc/os-release", "File"));
}

fn restricted(spec: &mut PodSpec, opts: &AgentOptions) {
    let seccomp = || {
        Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        })
    };
    spec.security_context = Some(PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(65534),
        run_as_group: Some(65534),
        fs_group: Some(65534),
        seccomp_profile: seccomp(),
        ..PodSecurityContext::default()
    });
    let container = &mut spec.containers[0];
    container.resources = Some(ResourceRequirements {
        requests: Some(resources(
            [
                ("cpu", "100m"),
                ("memory", "256Mi"),
                ("ephemeral-storage", "256Mi"),
            ],
            &opts.requests,
        )),
        limits: Some(resources(
            [
                ("cpu", "500m"),
                ("memory", "512Mi"),
                ("ephemeral-storage", "512Mi"),
            ],
            &opts.limits,
        )),
        ..ResourceRequirements::default()
    });
    container.security_context = Some(SecurityContext {
        privileged: Some(false),
        run_as_non_root: Some(true),
        run_as_user: Some(65534),
        run_as_group: Some(65534),
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            add: None,
            drop: Some(strings(&["ALL"])),
        }),
        seccomp_profile: seccomp(),
        ..SecurityContext::default()
    });
}

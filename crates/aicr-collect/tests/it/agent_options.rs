//! The agent's option parsers and Job shape (cases 45–47 and 50).

use std::collections::BTreeMap;

use aicr_collect::cluster::agent::{
    AgentOptions, build_job, parse_node_selectors, parse_os, parse_resource_list, parse_tolerations,
};
use aicr_core::Code;
use k8s_openapi::api::core::v1::{Container, PodSpec, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn toleration(
    key: Option<&str>,
    op: &str,
    value: Option<&str>,
    effect: Option<&str>,
) -> Toleration {
    Toleration {
        key: key.map(String::from),
        operator: Some(op.into()),
        value: value.map(String::from),
        effect: effect.map(String::from),
        toleration_seconds: None,
    }
}

/// Case 45.
#[test]
fn tolerations_parse_as_the_reference() {
    assert_eq!(
        parse_tolerations(&[]).unwrap(),
        [toleration(None, "Exists", None, None)]
    );
    let parsed = parse_tolerations(&strings(&[
        "dedicated=user-workload:NoSchedule",
        "nvidia.com/gpu:NoSchedule",
        "*",
    ]))
    .unwrap();
    assert_eq!(
        parsed,
        [
            toleration(
                Some("dedicated"),
                "Equal",
                Some("user-workload"),
                Some("NoSchedule")
            ),
            toleration(Some("nvidia.com/gpu"), "Exists", None, Some("NoSchedule")),
            toleration(None, "Exists", None, None),
        ]
    );
    for bad in ["k=v:noschedule", "k=v", "a:b:c", "k=v:"] {
        let err = parse_tolerations(&strings(&[bad])).unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest, "{bad}");
    }
}

/// Case 46.
#[test]
fn node_selectors_split_at_the_first_equals_sign() {
    let parsed = parse_node_selectors(&strings(&["label=key=value", "key="])).unwrap();
    assert_eq!(
        parsed,
        BTreeMap::from([
            ("label".into(), "key=value".into()),
            ("key".into(), String::new())
        ])
    );
    let err = parse_node_selectors(&strings(&["nokey"])).unwrap_err();
    assert_eq!(
        err.message(),
        "invalid format \"nokey\", expected key=value"
    );
}

/// Case 47.
#[test]
fn resource_lists_are_trimmed_checked_and_unique() {
    let parsed = parse_resource_list(" cpu=500m , memory=1Gi ").unwrap();
    assert_eq!(
        parsed,
        BTreeMap::from([
            ("cpu".into(), Quantity("500m".into())),
            ("memory".into(), Quantity("1Gi".into()))
        ])
    );
    assert!(parse_resource_list("").unwrap().is_empty());
    let message = |spec: &str| parse_resource_list(spec).unwrap_err().message().to_string();
    assert!(message("cpu=-1").contains("negative quantity"));
    assert!(message("cpu=1,cpu=2").contains("duplicate key"));
    assert!(message("=1Gi").contains("empty"));
    assert!(message("memory=").contains("empty"));
    assert!(message("cpu=lots").contains("invalid quantity"));
    assert!(message("cpu").contains("name=quantity"));
}

fn pod(opts: &AgentOptions) -> PodSpec {
    build_job(opts).spec.unwrap().template.spec.unwrap()
}

fn container(spec: &PodSpec) -> &Container {
    &spec.containers[0]
}

fn env(spec: &PodSpec) -> Vec<(String, Option<String>)> {
    container(spec)
        .env
        .clone()
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.value))
        .collect()
}

fn volumes(spec: &PodSpec) -> Vec<String> {
    spec.volumes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect()
}

/// Case 50.
#[test]
fn job_shape_follows_privilege_os_runtime_class_and_gpu_options() {
    let mut opts = AgentOptions::new("gpu", "img");
    opts.os = parse_os("ubuntu").unwrap();
    let spec = pod(&opts);
    assert_eq!(volumes(&spec), ["tmp", "run-systemd", "host-os-release"]);
    assert!(env(&spec).contains(&("AICR_OS".into(), Some("ubuntu".into()))));
    assert_eq!(spec.host_pid, Some(true));
    assert_eq!(
        container(&spec)
            .security_context
            .as_ref()
            .unwrap()
            .privileged,
        Some(true)
    );
    assert_eq!(
        container(&spec).args.as_deref().unwrap(),
        ["snapshot", "-o", "cm://gpu/aicr-snapshot"]
    );

    opts.os = parse_os("talos").unwrap();
    let spec = pod(&opts);
    assert_eq!(volumes(&spec), ["tmp"]);
    assert_eq!(container(&spec).volume_mounts.as_ref().unwrap().len(), 1);

    opts.os = None;
    let spec = pod(&opts);
    assert_eq!(volumes(&spec).len(), 3);
    assert!(env(&spec).iter().all(|(name, _)| name != "AICR_OS"));
    assert!(
        env(&spec)
            .iter()
            .all(|(name, _)| name != "NVIDIA_VISIBLE_DEVICES")
    );

    opts.runtime_class = Some("nvidia".into());
    let spec = pod(&opts);
    assert_eq!(spec.runtime_class_name.as_deref(), Some("nvidia"));
    assert!(env(&spec).contains(&("NVIDIA_VISIBLE_DEVICES".into(), Some("all".into()))));

    let mut opts = AgentOptions::new("gpu", "img");
    opts.require_gpu = true;
    let limits = |o: &AgentOptions| {
        container(&pod(o))
            .resources
            .clone()
            .unwrap()
            .limits
            .unwrap()
    };
    assert_eq!(limits(&opts)["nvidia.com/gpu"], Quantity("1".into()));
    opts.limits = parse_resource_list("nvidia.com/gpu=4").unwrap();
    assert_eq!(limits(&opts)["nvidia.com/gpu"], Quantity("4".into()));
    assert_eq!(limits(&opts)["memory"], Quantity("8Gi".into()));
}

#[test]
fn restricted_job_runs_as_nobody_without_host_access_or_gpu() {
    let mut opts = AgentOptions::new("gpu", "img");
    opts.privileged = false;
    opts.require_gpu = true;
    opts.debug = true;
    opts.max_nodes_per_entry = 7;
    let spec = pod(&opts);
    assert_eq!(spec.host_pid, None);
    assert_eq!(volumes(&spec), ["tmp"]);
    let security = container(&spec).security_context.clone().unwrap();
    assert_eq!(
        (security.run_as_user, security.read_only_root_filesystem),
        (Some(65534), Some(true))
    );
    assert_eq!(security.capabilities.unwrap().drop.unwrap(), ["ALL"]);
    let resources = container(&spec).resources.clone().unwrap();
    assert!(
        !resources
            .limits
            .as_ref()
            .unwrap()
            .contains_key("nvidia.com/gpu")
    );
    assert_eq!(resources.requests.unwrap()["cpu"], Quantity("100m".into()));
    assert_eq!(
        container(&spec).args.as_deref().unwrap()[..3],
        ["--debug", "--log-json", "snapshot"]
    );
    assert!(env(&spec).contains(&("AICR_MAX_NODES_PER_ENTRY".into(), Some("7".into()))));
    let job = build_job(&opts);
    let job_spec = job.spec.unwrap();
    assert_eq!(
        (
            job_spec.backoff_limit,
            job_spec.ttl_seconds_after_finished,
            job_spec.active_deadline_seconds
        ),
        (Some(0), Some(3600), Some(18000))
    );
}

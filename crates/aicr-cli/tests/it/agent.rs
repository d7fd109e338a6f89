//! `aicr snapshot` in agent mode and `cm://` inputs and outputs, with the
//! real binary against the Kubernetes API server double.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aicr_test_support::apiserver::{ApiServer, JobOutcome, JobScript};
use serde_json::Value;

const NS: &str = "aicr-ns";
const SNAPSHOT: &str = "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  source-node: gpu-1\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data:\n          version: v1.33.5-eks-3025e55\n";

/// A snapshot meeting the eks/h100/ubuntu/training recipe's constraints.
const PASSING: &str = "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  timestamp: \"2026-01-30T12:00:00Z\"\nmeasurements:\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data:\n          version: v1.33.5-eks-3025e55\n  - type: OS\n    subtypes:\n      - subtype: release\n        data:\n          ID: ubuntu\n          VERSION_ID: \"24.04\"\n      - subtype: sysctl\n        data:\n          /proc/sys/kernel/osrelease: 6.8.0-1028-aws\n";

/// The double on its own runtime (the binary blocks the test's thread),
/// and a directory with a kubeconfig pointing at it.
struct Cluster {
    _runtime: tokio::runtime::Runtime,
    server: ApiServer,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(ApiServer::start());
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n    server: {}\ncontexts:\n- name: double\n  context:\n    cluster: double\n    user: nobody\ncurrent-context: double\nusers:\n- name: nobody\n  user: {{}}\n",
            server.url()
        );
        std::fs::write(dir.path().join("kubeconfig"), kubeconfig).unwrap();
        Cluster {
            _runtime: runtime,
            server,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `aicr ARGS` with KUBECONFIG at the double.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        aicr(args, Some(&self.path("kubeconfig")), self.dir.path())
    }

    /// The Job writes SNAPSHOT to `cm://NS/name` and ends as `outcome`.
    fn script(&self, outcome: JobOutcome, name: &str) {
        self.server.script_jobs(JobScript {
            outcome,
            pod_log: "collecting on gpu-1\n".into(),
            writes_configmap: Some((
                NS.into(),
                name.into(),
                vec![("snapshot.yaml".into(), SNAPSHOT.into())],
            )),
        });
    }
}

/// Runs the binary with a controlled environment: no in-cluster hints,
/// no agent mode, HOME at `home`.
fn aicr(args: &[&str], kubeconfig: Option<&Path>, home: &Path) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aicr"));
    command.args(args).env("HOME", home);
    for var in [
        "KUBECONFIG",
        "KUBERNETES_SERVICE_HOST",
        "AICR_AGENT_MODE",
        "AICR_NAMESPACE",
        "AICR_IMAGE",
        "AICR_RUNTIME_CLASS",
        "AICR_REQUIRE_GPU",
        "AICR_REQUESTS",
        "AICR_LIMITS",
        "AICR_OS",
    ] {
        command.env_remove(var);
    }
    if let Some(path) = kubeconfig {
        command.env("KUBECONFIG", path);
    }
    aicr_test_support::output_text(command.output().expect("aicr runs"))
}

fn agent(extra: &[&str]) -> Vec<String> {
    let mut args = vec!["snapshot", "-n", NS];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "10s"]);
    }
    args.extend_from_slice(extra);
    args.into_iter().map(String::from).collect()
}

fn run_agent(cluster: &Cluster, extra: &[&str]) -> (i32, String, String) {
    let args = agent(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cluster.run(&args)
}

#[test]
fn the_agent_snapshot_goes_to_stdout_and_to_a_file_and_cleans_up() {
    let cluster = Cluster::start();
    cluster.script(
        JobOutcome::Complete(Duration::from_millis(100)),
        "aicr-snapshot",
    );
    let (status, out, err) = run_agent(&cluster, &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, format!("{SNAPSHOT}\n"));
    assert!(err.contains("waiting for Job ("), "{err}");
    assert!(err.contains("collecting on gpu-1"), "{err}");
    let job = cluster.server.requests_matching("POST", "/jobs");
    assert_eq!(job.len(), 1, "one Job created");
    assert!(cluster.server.names("jobs").is_empty(), "Job cleaned up");
    assert!(cluster.server.names("clusterroles").is_empty());

    let file = cluster.path("snap.yaml");
    let (status, out, err) = run_agent(&cluster, &["-o", file.to_str().unwrap()]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), SNAPSHOT);
}

#[test]
fn a_cm_output_is_left_to_the_agent_and_reads_back_for_diff() {
    let cluster = Cluster::start();
    cluster.script(JobOutcome::Complete(Duration::from_millis(50)), "mine");
    let uri = format!("cm://{NS}/mine");
    let (status, out, err) = run_agent(&cluster, &["-o", &uri, "--no-cleanup"]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(&format!("snapshot saved to ConfigMap {NS}/mine")),
        "{err}"
    );
    // The Job's args name the user's ConfigMap; --no-cleanup keeps it.
    let job = cluster
        .server
        .get_json("jobs", NS, "aicr")
        .expect("Job kept");
    let args = &job["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args[2], uri.as_str(), "{args}");

    let target = cluster.path("target.yaml");
    std::fs::write(&target, SNAPSHOT.replace("v1.33.5-eks-3025e55", "v1.34.0")).unwrap();
    let (status, out, err) = cluster.run(&[
        "diff",
        "-b",
        &uri,
        "--target",
        target.to_str().unwrap(),
        "-t",
        "json",
    ]);
    assert_eq!(status, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["modified"], 1, "{out}");
    assert_eq!(report["baselineSource"], uri.as_str());
}

#[test]
fn a_failed_job_exits_8_with_the_pod_log_on_stderr() {
    let cluster = Cluster::start();
    cluster.script(
        JobOutcome::Failed {
            after: Duration::from_millis(50),
            reason: "BackoffLimitExceeded".into(),
            message: "pod failed".into(),
        },
        "aicr-snapshot",
    );
    let (status, out, err) = run_agent(&cluster, &[]);
    assert_eq!(status, 8, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("--- agent logs ---"), "{err}");
    assert!(err.contains("collecting on gpu-1"), "{err}");
    assert!(err.contains("job failed"), "{err}");
    assert!(
        cluster.server.names("jobs").is_empty(),
        "cleaned up after failure"
    );
}

#[test]
fn a_job_that_never_ends_times_out_with_exit_5() {
    let cluster = Cluster::start();
    cluster.script(JobOutcome::Never, "aicr-snapshot");
    let (status, _, err) = run_agent(&cluster, &["--timeout", "1s"]);
    assert_eq!(status, 5, "{err}");
    assert!(err.contains("TIMEOUT") || err.contains("timeout"), "{err}");
    assert!(
        cluster.server.names("jobs").is_empty(),
        "cleaned up after timeout"
    );
}

#[test]
fn missing_permissions_exit_4_before_anything_is_created() {
    let cluster = Cluster::start();
    cluster.server.deny("create", "jobs", NS);
    let (status, _, err) = run_agent(&cluster, &[]);
    assert_eq!(status, 4, "{err}");
    assert!(err.contains("create jobs"), "{err}");
    assert!(cluster.server.requests_matching("POST", "/jobs").is_empty());
}

#[test]
fn without_a_cluster_agent_mode_says_so() {
    let home = tempfile::tempdir().unwrap();
    let (status, _, err) = aicr(&["snapshot"], None, home.path());
    assert_eq!(status, 8, "{err}");
    assert!(err.contains("no cluster found"), "{err}");
    assert!(err.contains("--local"), "{err}");
}

#[test]
fn bad_agent_flags_exit_2_before_any_request() {
    let cluster = Cluster::start();
    for (flags, needle) in [
        (
            &["--toleration", "key=value"][..],
            "expected key=value:effect",
        ),
        (&["--toleration", "k:NoWay"][..], "effect"),
        (&["--node-selector", "novalue"][..], "expected key=value"),
        (
            &["--require-gpu", "--runtime-class", "nvidia"][..],
            "mutually exclusive",
        ),
        (&["--os", "windows"][..], "--os"),
        (&["--requests", "cpu=-1"][..], "--requests"),
        (&["--timeout", "5x"][..], "duration"),
    ] {
        let (status, out, err) = run_agent(&cluster, flags);
        // clap's own value errors exit 1 (usage); ours are INVALID_REQUEST.
        let expected = if needle == "duration" { 1 } else { 2 };
        assert_eq!(status, expected, "{flags:?}: {err}");
        assert_eq!(out, "");
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
    assert!(
        cluster.server.requests().is_empty(),
        "{:?}",
        cluster.server.requests()
    );
}

#[test]
fn a_recipe_written_to_a_configmap_validates_from_it() {
    let cluster = Cluster::start();
    let uri = "cm://recipes/eks-h100";
    let (status, out, err) = cluster.run(&[
        "recipe",
        "--service",
        "eks",
        "--accelerator",
        "h100",
        "--os",
        "ubuntu",
        "--intent",
        "training",
        "-o",
        uri,
    ]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "");
    let cm = cluster
        .server
        .get_json("configmaps", "recipes", "eks-h100")
        .expect("ConfigMap written");
    assert_eq!(cm["data"]["format"], "yaml");
    assert!(
        cm["data"]["snapshot.yaml"]
            .as_str()
            .unwrap()
            .contains("kind: RecipeResult")
    );
    let stamp = cm["data"]["timestamp"].as_str().unwrap();
    assert!(stamp.ends_with('Z') && stamp.len() == 20, "{stamp}");

    let snapshot = cluster.path("s.yaml");
    std::fs::write(&snapshot, PASSING).unwrap();
    let report_uri = "cm://recipes/report";
    let (status, out, err) = cluster.run(&[
        "validate",
        "-r",
        uri,
        "-s",
        snapshot.to_str().unwrap(),
        "-o",
        report_uri,
    ]);
    assert_eq!((status, out.as_str()), (0, ""), "{err}");
    let cm = cluster
        .server
        .get_json("configmaps", "recipes", "report")
        .expect("report written");
    assert_eq!(cm["data"]["format"], "json");
    let text = cm["data"]["snapshot.json"].as_str().unwrap();
    assert!(!text.ends_with('\n'), "JSON is stored without its newline");
    let report: Value = serde_json::from_str(text).unwrap();
    assert_eq!(report["results"]["summary"]["failed"], 0, "{text}");
    assert_eq!(report["results"]["summary"]["passed"], 4, "{text}");

    // A missing ConfigMap is NOT_FOUND from the reader.
    let (status, _, err) = cluster.run(&[
        "diff",
        "-b",
        "cm://recipes/none",
        "--target",
        snapshot.to_str().unwrap(),
    ]);
    assert_ne!(status, 0);
    assert!(err.contains("recipes/none"), "{err}");
}

#[test]
fn recipe_reads_its_snapshot_from_a_configmap() {
    let cluster = Cluster::start();
    cluster.script(
        JobOutcome::Complete(Duration::from_millis(50)),
        "aicr-snapshot",
    );
    let (status, _, err) = run_agent(&cluster, &["-o", "cm://aicr-ns/aicr-snapshot"]);
    assert_eq!(status, 0, "{err}");
    let (status, out, err) = cluster.run(&[
        "recipe",
        "--snapshot",
        "cm://aicr-ns/aicr-snapshot",
        "--accelerator",
        "h100",
        "--service",
        "eks",
    ]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("kind: RecipeResult"), "{out}");
    assert!(
        !cluster
            .server
            .requests_matching("GET", "/configmaps/aicr-snapshot")
            .is_empty()
    );

    // Without any cluster configuration a cm:// source is a clear error.
    let home = tempfile::tempdir().unwrap();
    let (status, _, err) = aicr(
        &["recipe", "--snapshot", "cm://aicr-ns/x", "--service", "eks"],
        None,
        home.path(),
    );
    assert_eq!(status, 8, "{err}");
    assert!(err.contains("no cluster found"), "{err}");
}

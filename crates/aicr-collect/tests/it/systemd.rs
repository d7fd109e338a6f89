//! SystemD over D-Bus: against a peer serving `GetAll` on a unix socket in
//! a temporary directory, as systemd serves `/run/systemd/private`; and
//! the conversion of D-Bus values to readings.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use aicr_collect::Outcome;
use aicr_collect::systemd::{collect, reading, unit_path, unit_subtype};
use aicr_core::Code;
use aicr_core::snapshot::{MeasurementType, Reading};
use futures_util::StreamExt;
use zbus::connection::Builder;
use zbus::{Guid, MessageStream, OwnedVariant, Structure, Variant};

fn owned(value: impl Into<Variant<'static>>) -> OwnedVariant {
    OwnedVariant::try_from(value.into()).unwrap()
}

/// `ExecStart` as systemd types it: `a(sasbttttuii)`.
fn exec_start() -> Variant<'static> {
    let command = (
        "/usr/bin/containerd",
        vec!["/usr/bin/containerd"],
        false,
        0u64,
        0u64,
        0u64,
        0u64,
        0u32,
        0i32,
        0i32,
    );
    Variant::from(vec![command])
}

/// What the fake systemd answers for a unit's object path.
fn properties_of(path: &str) -> Result<HashMap<&'static str, Variant<'static>>, &'static str> {
    let unit = path.rsplit('/').next().unwrap_or_default();
    match unit {
        "containerd_2eservice" => Ok(HashMap::from([
            ("Id", Variant::from("containerd.service")),
            ("ActiveState", Variant::from("active")),
            ("LoadState", Variant::from("loaded")),
            ("Delegate", Variant::from(true)),
            ("NRestarts", Variant::from(0u32)),
            ("LimitNOFILE", Variant::from(1_048_576u64)),
            ("CPUQuotaPerSecUSec", Variant::from(u64::MAX)),
            ("OOMScoreAdjust", Variant::from(-999i32)),
            ("MemoryPressureThresholdUSec", Variant::from(200_000i64)),
            ("CPUWeightFraction", Variant::from(0.5f64)),
            ("Markers", Variant::from(vec!["a", "b"])),
            ("LoadCredential", Variant::from(vec![("secret", "/path")])),
            ("ExecStart", exec_start()),
        ])),
        "docker_2eservice" => Ok(HashMap::from([
            ("Id", Variant::from("docker.service")),
            ("LoadState", Variant::from("not-found")),
            ("ActiveState", Variant::from("inactive")),
        ])),
        "denied_2eservice" => Err("org.freedesktop.DBus.Error.AccessDenied"),
        _ => Err("org.freedesktop.DBus.Error.Failed"),
    }
}

/// A peer on `dir/private` answering `Properties.GetAll("")` as systemd
/// does, for every connection it accepts.
fn serve(dir: &Path) -> PathBuf {
    let path = dir.join("private");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream.into_std().unwrap()));
        }
    });
    path
}

async fn answer(stream: std::os::unix::net::UnixStream) {
    let connection = Builder::unix_stream(stream)
        .server(Guid::generate())
        .p2p()
        .build()
        .await
        .unwrap();
    let mut messages = MessageStream::from(&connection);
    while let Some(Ok(message)) = messages.next().await {
        let header = message.header();
        let is_get_all = header.member().is_some_and(|m| m.as_str() == "GetAll")
            && header
                .interface()
                .is_some_and(|i| i.as_str() == "org.freedesktop.DBus.Properties");
        if !is_get_all {
            continue;
        }
        let interface: String = message.body().deserialize().unwrap();
        assert_eq!(interface, "", "the reference asks for every interface");
        let path = header.path().map(|p| p.as_str()).unwrap_or_default();
        match properties_of(path) {
            Ok(properties) => connection.reply(&header, &properties).await.unwrap(),
            Err(error) => connection
                .reply_error(&header, error, &"refused")
                .await
                .unwrap(),
        }
    }
}

fn collected(outcome: Outcome) -> aicr_core::snapshot::Measurement {
    match outcome {
        Outcome::Collected(measurement) => measurement,
        Outcome::Absent(reason) => panic!("absent: {reason}"),
    }
}

#[tokio::test]
async fn units_are_read_over_a_peer_to_peer_connection() {
    let dir = tempfile::tempdir().unwrap();
    let socket = serve(dir.path());
    let outcome = collect(&socket, &["containerd.service", "docker.service"]).await;
    let measurement = collected(outcome.unwrap());
    assert_eq!(measurement.kind, MeasurementType::SystemD);
    let names: Vec<&str> = measurement
        .subtypes
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["containerd.service", "docker.service"]);

    let containerd = &measurement.subtypes[0].data;
    let expected = BTreeMap::from([
        ("ActiveState", Reading::from("active")),
        ("LoadState", Reading::from("loaded")),
        ("Delegate", Reading::Bool(true)),
        ("NRestarts", Reading::from("0")),
        ("LimitNOFILE", Reading::Int(1_048_576)),
        ("CPUQuotaPerSecUSec", Reading::Uint(u64::MAX)),
        ("OOMScoreAdjust", Reading::from("-999")),
        ("MemoryPressureThresholdUSec", Reading::Int(200_000)),
        ("CPUWeightFraction", Reading::Float(0.5)),
        ("Markers", Reading::from("[a b]")),
        (
            "ExecStart",
            Reading::from("[[/usr/bin/containerd [/usr/bin/containerd] false 0 0 0 0 0 0 0]]"),
        ),
    ]);
    let expected: BTreeMap<String, Reading> = expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(containerd, &expected);

    // A unit systemd does not know is data, not an error.
    let docker = &measurement.subtypes[1].data;
    assert_eq!(docker["LoadState"], Reading::from("not-found"));
    assert!(!docker.contains_key("Id"));
}

#[tokio::test]
async fn no_services_reads_containerd_as_the_reference_does() {
    let dir = tempfile::tempdir().unwrap();
    let socket = serve(dir.path());
    let measurement = collected(collect(&socket, &[]).await.unwrap());
    let names: Vec<&str> = measurement
        .subtypes
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["containerd.service"]);
}

/// Case 36, with our difference: no socket is an absent source, with the
/// reason, rather than an empty measurement.
#[tokio::test]
async fn a_missing_socket_is_an_absent_source() {
    let dir = tempfile::tempdir().unwrap();
    for path in [
        dir.path().join("private"),
        dir.path().join("no/such/dir/private"),
    ] {
        match collect(&path, &["containerd.service"]).await.unwrap() {
            Outcome::Absent(reason) => assert!(reason.contains("private"), "{reason}"),
            Outcome::Collected(m) => panic!("collected {m:?}"),
        }
    }
    // A file where a directory should be is absent too (ENOTDIR).
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let outcome = collect(&file.join("private"), &[]).await.unwrap();
    assert!(matches!(outcome, Outcome::Absent(_)), "{outcome:?}");
}

#[tokio::test]
async fn a_path_nobody_listens_on_is_service_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file: connecting to it is refused.
    let file = dir.path().join("private");
    std::fs::write(&file, "").unwrap();
    let err = collect(&file, &[]).await.unwrap_err();
    assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");

    // A socket whose listener is gone.
    let stale = dir.path().join("stale");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let err = collect(&stale, &[]).await.unwrap_err();
    assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");
}

#[tokio::test]
async fn a_peer_that_is_not_d_bus_is_service_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        // Accept and hang up at once, before any handshake.
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let err = collect(&path, &[]).await.unwrap_err();
    assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");
}

#[tokio::test]
async fn get_all_errors_fail_the_collection_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let socket = serve(dir.path());
    let err = collect(&socket, &["containerd.service", "denied.service"])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized, "{err}");
    assert!(err.to_string().contains("root"), "{err}");

    let err = collect(&socket, &["broken.service"]).await.unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err}");
    assert!(err.to_string().contains("broken.service"), "{err}");
}

/// Case 37.
#[test]
fn properties_keep_native_types_and_drop_ids_and_credentials() {
    let properties = BTreeMap::from([
        ("Id".to_string(), owned("x")),
        ("ActiveState".to_string(), owned("active")),
        ("LoadCredential".to_string(), owned(vec![("a", "b")])),
        (
            "SetCredentialEncrypted".to_string(),
            owned(vec![("a", "b")]),
        ),
        ("NRestarts".to_string(), owned(0u32)),
        ("Delegate".to_string(), owned(true)),
        ("AllowedCPUs".to_string(), owned(vec![1u8])),
        ("AllowedMemoryNodes".to_string(), owned(vec![1u8])),
        (
            "Asserts".to_string(),
            owned(vec![("a", false, false, "b", 0i32)]),
        ),
        ("BPFProgram".to_string(), owned(vec![("a", "b")])),
        ("BusName".to_string(), owned("x")),
    ]);
    let subtype = unit_subtype("x.service", &properties);
    assert_eq!(subtype.name, "x.service");
    let expected = BTreeMap::from([
        ("ActiveState".to_string(), Reading::from("active")),
        ("NRestarts".to_string(), Reading::from("0")),
        ("Delegate".to_string(), Reading::Bool(true)),
    ]);
    assert_eq!(subtype.data, expected);
}

#[test]
fn d_bus_values_read_as_the_reference_writes_them() {
    let text = |value: Variant<'static>| reading(&value).to_string();
    // Native.
    assert_eq!(reading(&Variant::from("s")), Reading::from("s"));
    assert_eq!(reading(&Variant::from(false)), Reading::Bool(false));
    assert_eq!(reading(&Variant::from(-5i64)), Reading::Int(-5));
    assert_eq!(reading(&Variant::from(7u64)), Reading::Int(7));
    assert_eq!(reading(&Variant::from(u64::MAX)), Reading::Uint(u64::MAX));
    assert_eq!(reading(&Variant::from(2.5f64)), Reading::Float(2.5));
    // Text, as Go's %v.
    assert_eq!(reading(&Variant::from(7u8)), Reading::from("7"));
    assert_eq!(reading(&Variant::from(-3i16)), Reading::from("-3"));
    assert_eq!(reading(&Variant::from(3u16)), Reading::from("3"));
    assert_eq!(reading(&Variant::from(-1i32)), Reading::from("-1"));
    assert_eq!(
        reading(&Variant::from(4_294_967_295u32)),
        Reading::from("4294967295")
    );
    assert_eq!(text(Variant::from(Vec::<String>::new())), "[]");
    assert_eq!(text(Variant::from(vec!["a", "b"])), "[a b]");
    assert_eq!(text(Variant::from(vec![104u8, 105])), "[104 105]");
    assert_eq!(text(Variant::from(vec![1.5f64, 1e6])), "[1.5 1e+06]");
    assert_eq!(
        text(Variant::from(vec![("a", true), ("b", false)])),
        "[[a true] [b false]]"
    );
    assert_eq!(
        text(Variant::from(Structure::from((
            true,
            vec!["x".to_string()]
        )))),
        "[true [x]]"
    );
    let path = zbus::ObjectPath::try_from("/org/freedesktop/systemd1").unwrap();
    assert_eq!(text(Variant::from(path)), "/org/freedesktop/systemd1");
    let dict = HashMap::from([("b", 2u32), ("a", 1u32)]);
    assert_eq!(text(Variant::from(dict)), "map[a:1 b:2]");
    let numeric = HashMap::from([(10u32, "x"), (9u32, "y")]);
    assert_eq!(text(Variant::from(numeric)), "map[9:y 10:x]");
    // A nested variant prints as godbus's Variant.String().
    let nested = |inner: Variant<'static>| Variant::Variant(Box::new(inner));
    assert_eq!(text(nested(Variant::from("x"))), "\"x\"");
    assert_eq!(text(nested(Variant::from(5u32))), "@u 5");
    assert_eq!(text(nested(Variant::from(5i32))), "5");
}

#[test]
fn unit_paths_escape_as_systemd_does() {
    assert_eq!(
        unit_path("containerd.service"),
        "/org/freedesktop/systemd1/unit/containerd_2eservice"
    );
    assert_eq!(
        unit_path("systemd-journald.service"),
        "/org/freedesktop/systemd1/unit/systemd_2djournald_2eservice"
    );
    assert_eq!(
        unit_path("1a@b_c.service"),
        "/org/freedesktop/systemd1/unit/_31a_40b_5fc_2eservice"
    );
    assert_eq!(unit_path(""), "/org/freedesktop/systemd1/unit/_");
}

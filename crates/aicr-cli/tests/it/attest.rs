//! `aicr bundle --attest --signing-key` and `aicr verify --public-key`:
//! trust levels, tampering, policy, determinism, and an independent check
//! of the attestation with securesystemslib's DSSE and the Sigstore
//! protobuf-specs bundle model (the tools venv of
//! `scripts/install_real_tools.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use aicr_test_support::repo_root;

use crate::support::run;

const ATTESTATION: &str = "attestation/bundle-attestation.sigstore.json";

fn key(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

fn s(path: &Path) -> String {
    path.display().to_string()
}

/// A recipe from the embedded catalog, written to `dir/recipe.yaml`.
fn recipe(dir: &Path) -> String {
    let path = dir.join("recipe.yaml");
    crate::support::write_recipe(&path);
    s(&path)
}

/// `aicr bundle` of `recipe` into `out` with `extra` flags; exit status and stderr.
fn bundle(recipe: &str, out: &Path, extra: &[&str]) -> (i32, String) {
    let out = s(out);
    let mut args = vec!["bundle", "-r", recipe, "-o", &out, "--force"];
    args.extend_from_slice(extra);
    let (code, _, err) = run(args);
    (code, err)
}

/// `aicr verify DIR extra...`: exit status, stdout, stderr.
fn verify(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let dir = s(dir);
    let mut args = vec!["verify", dir.as_str()];
    args.extend_from_slice(extra);
    run(args)
}

fn json_report(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = extra.to_vec();
    args.extend_from_slice(&["--format", "json"]);
    let (code, out, err) = verify(dir, &args);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}")),
    )
}

#[test]
fn signed_bundles_verify_as_attested_with_their_key_only() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    for (private, public, other) in [
        ("p256.pem", "p256.pub", "ed25519.pub"),
        ("ed25519.pem", "ed25519.pub", "p256.pub"),
        ("p256-sec1.pem", "p256-sec1.pub", "p256.pub"),
    ] {
        let out = tmp.path().join(private);
        let (code, err) = bundle(&recipe, &out, &["--attest", "--signing-key", &key(private)]);
        assert_eq!(code, 0, "{private}: {err}");
        let sums = std::fs::read_to_string(out.join("checksums.txt")).unwrap();
        assert!(!sums.contains("attestation/"), "{sums}");

        let (code, text, err) = verify(&out, &["--public-key", &key(public)]);
        assert_eq!(code, 0, "{private}: {text}{err}");
        assert!(text.contains("✓ Bundle attested by:"), "{text}");
        assert!(text.contains("Trust level: attested"), "{text}");
        assert!(text.ends_with("Bundle verification: PASSED\n"), "{text}");
        let (code, report) = json_report(&out, &["--public-key", &key(public)]);
        assert_eq!(code, 0);
        assert_eq!(report["trustLevel"], "attested");
        assert_eq!(report["checksumsPassed"], true);
        assert_eq!(report["bundleAttested"], true);
        assert_eq!(report["toolVersion"], "v0.1.0");
        let creator = report["bundleCreator"].as_str().unwrap().to_string();
        let (code, _, err) = verify(
            &out,
            &[
                "--public-key",
                &key(public),
                "--min-trust-level",
                "attested",
                "--require-creator",
                &creator,
                "--cli-version-constraint",
                "0.1.0",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let (code, _, _) = verify(
            &out,
            &[
                "--public-key",
                &key(public),
                "--cli-version-constraint",
                ">= 9.0.0",
            ],
        );
        assert_eq!(code, 2);

        // Someone else's key: the signature fails.
        let (code, text, err) = verify(&out, &["--public-key", &key(other)]);
        assert_eq!(code, 4, "{private}: {text}{err}");
        assert!(text.contains("Trust level: unknown"), "{text}");
        assert!(err.contains("UNAUTHORIZED"), "{err}");

        // No key: reported as not checked, and not a pass under max.
        let (code, text, err) = verify(&out, &[]);
        assert_eq!(code, 2, "{text}{err}");
        assert!(text.contains("Trust level: unverified"), "{text}");
        assert!(text.contains("--public-key"), "{text}");
        let (code, _, _) = verify(&out, &["--min-trust-level", "unverified"]);
        assert_eq!(code, 0);
    }
}

#[test]
fn tampering_with_any_signed_part_is_unauthorized() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let good = tmp.path().join("good");
    let (code, err) = bundle(
        &recipe,
        &good,
        &["--attest", "--signing-key", &key("p256.pem")],
    );
    assert_eq!(code, 0, "{err}");
    let public = key("p256.pub");

    type Tamper = fn(&Path);
    let cases: [(&str, Tamper); 5] = [
        ("a values file", |d| {
            append(&d.join("002-aws-efa/values.yaml"), "extra: true\n")
        }),
        ("checksums.txt re-made over an edited file", |d| {
            let values = d.join("002-aws-efa/values.yaml");
            append(&values, "extra: true\n");
            let sums = std::fs::read_to_string(d.join("checksums.txt")).unwrap();
            let new = sha256_hex(&std::fs::read(&values).unwrap());
            let fixed: String = sums
                .lines()
                .map(|l| match l.split_once("  ") {
                    Some((_, p)) if p == "002-aws-efa/values.yaml" => format!("{new}  {p}\n"),
                    _ => format!("{l}\n"),
                })
                .collect();
            std::fs::write(d.join("checksums.txt"), fixed).unwrap();
        }),
        ("the signature", |d| {
            edit_attestation(d, |doc| {
                let sig = doc["dsseEnvelope"]["signatures"][0]["sig"]
                    .as_str()
                    .unwrap();
                let flipped = if sig.starts_with('M') { "N" } else { "M" };
                doc["dsseEnvelope"]["signatures"][0]["sig"] =
                    format!("{flipped}{}", &sig[1..]).into();
            })
        }),
        ("the payload", |d| {
            edit_attestation(d, |doc| {
                let payload = doc["dsseEnvelope"]["payload"].as_str().unwrap().to_string();
                let text = String::from_utf8(b64_decode(&payload)).unwrap();
                let text = text.replace("\"deployer\":\"helm\"", "\"deployer\":\"flux\"");
                doc["dsseEnvelope"]["payload"] = b64_encode(text.as_bytes()).into();
            })
        }),
        ("the attestation replaced by an unrelated file", |d| {
            std::fs::write(d.join(ATTESTATION), "{}").unwrap()
        }),
    ];
    for (what, tamper) in cases {
        let dir = tmp.path().join("t");
        let _ = std::fs::remove_dir_all(&dir);
        aicr_test_support::copy_dir(&good, &dir);
        tamper(&dir);
        let (code, text, err) = verify(&dir, &["--public-key", &public]);
        assert_eq!(code, 4, "{what}: {text}{err}");
        assert!(
            text.contains("Bundle verification: FAILED"),
            "{what}: {text}"
        );
        assert!(err.contains("UNAUTHORIZED"), "{what}: {err}");
    }
}

#[test]
fn unsigned_bundles_are_unverified_and_fail_a_higher_minimum() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let out = tmp.path().join("b");
    let (code, err) = bundle(&recipe, &out, &[]);
    assert_eq!(code, 0, "{err}");
    let (code, report) = json_report(&out, &[]);
    assert_eq!(code, 0);
    assert_eq!(report["trustLevel"], "unverified");
    assert_eq!(report["bundleAttested"], false);
    let (code, text, err) = verify(&out, &["--min-trust-level", "attested"]);
    assert_eq!(code, 2, "{text}{err}");
    assert!(
        text.contains("does not meet minimum \"attested\""),
        "{text}"
    );
    let (code, _, err) = verify(&out, &["--min-trust-level", "trusted"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("INVALID_REQUEST"), "{err}");
}

#[test]
fn attest_needs_a_usable_key() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    let out = tmp.path().join("b");
    for (flags, needle) in [
        (vec!["--attest"], "keyless"),
        (vec!["--signing-key", "k.pem"], "--attest"),
        (
            vec!["--attest", "--signing-key", &key("p256-encrypted.pem")],
            "decrypt",
        ),
        (
            vec!["--attest", "--signing-key", &key("p256.pub")],
            "PRIVATE KEY",
        ),
    ] {
        let (code, err) = bundle(&recipe, &out, &flags);
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
        assert!(!out.exists(), "{flags:?} wrote a bundle");
    }
}

#[test]
fn the_same_inputs_and_key_give_a_byte_identical_attestation() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    for private in ["p256.pem", "ed25519.pem"] {
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for out in [&a, &b] {
            let (code, err) = bundle(&recipe, out, &["--attest", "--signing-key", &key(private)]);
            assert_eq!(code, 0, "{err}");
        }
        let read = |d: &Path| std::fs::read(d.join(ATTESTATION)).unwrap();
        assert_eq!(read(&a), read(&b), "{private}");
    }
}

/// The tools venv's Python with securesystemslib and the Sigstore
/// protobuf specs, or `None` (skip) unless AICR_REQUIRE_REAL_TOOLS is set.
fn python_with_attestation_libraries() -> Option<PathBuf> {
    let py = repo_root().join("target/tools/venv/bin/python");
    let ready = py.exists()
        && Command::new(&py)
            .args([
                "-c",
                "import securesystemslib.dsse, sigstore_protobuf_specs",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var_os("AICR_REQUIRE_REAL_TOOLS").is_none(),
            "securesystemslib and sigstore-protobuf-specs are required but missing from {}: run scripts/install_real_tools.sh",
            py.display()
        );
        eprintln!(
            "skipping: attestation libraries not installed (run scripts/install_real_tools.sh)"
        );
        return None;
    }
    Some(py)
}

/// Checks a bundle's attestation with other people's code: the Sigstore
/// bundle parses as the protobuf-specs `Bundle`, securesystemslib's DSSE
/// `Envelope` verifies with the public key, the key hint is the base64
/// SHA-256 of the key's DER SubjectPublicKeyInfo, and the statement's
/// subject is checksums.txt with its SHA-256.
const PYTHON_CHECK: &str = r#"
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from sigstore_protobuf_specs.dev.sigstore.bundle.v1 import Bundle

bundle_dir, public_path = sys.argv[1], sys.argv[2]
text = open(bundle_dir + "/attestation/bundle-attestation.sigstore.json").read()
doc = json.loads(text)
parsed = Bundle.from_dict(doc)
assert len(parsed.dsse_envelope.signatures) == 1
assert parsed.media_type == "application/vnd.dev.sigstore.bundle.v0.3+json", parsed.media_type
assert parsed.dsse_envelope.payload_type == "application/vnd.in-toto+json"
public = load_pem_public_key(open(public_path, "rb").read())
der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
hint = base64.b64encode(hashlib.sha256(der).digest()).decode()
assert parsed.verification_material.public_key.hint == hint, (parsed.verification_material.public_key.hint, hint)
keyid = doc["dsseEnvelope"]["signatures"][0]["keyid"]
assert keyid == hint
envelope = Envelope.from_dict(json.loads(text)["dsseEnvelope"])
key = SSlibKey.from_crypto(public, keyid=keyid)
envelope.verify([key], 1)
statement = json.loads(envelope.payload)
assert parsed.dsse_envelope.payload == envelope.payload
assert statement["_type"] == "https://in-toto.io/Statement/v1"
assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
sums = open(bundle_dir + "/checksums.txt", "rb").read()
assert statement["subject"] == [{"name": "checksums.txt", "digest": {"sha256": hashlib.sha256(sums).hexdigest()}}], statement["subject"]
print("verified", key.scheme)
"#;

#[test]
fn securesystemslib_verifies_our_envelopes_and_sigstore_specs_parse_our_bundles() {
    let Some(py) = python_with_attestation_libraries() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let recipe = recipe(tmp.path());
    for (private, public, scheme) in [
        ("p256.pem", "p256.pub", "ecdsa-sha2-nistp256"),
        ("ed25519.pem", "ed25519.pub", "ed25519"),
    ] {
        let out = tmp.path().join(private);
        let (code, err) = bundle(&recipe, &out, &["--attest", "--signing-key", &key(private)]);
        assert_eq!(code, 0, "{err}");
        let check = |public: &str| {
            Command::new(&py)
                .args(["-c", PYTHON_CHECK, &s(&out), &key(public)])
                .output()
                .expect("python runs")
        };
        let done = check(public);
        let said = String::from_utf8_lossy(&done.stdout);
        assert!(
            done.status.success() && said.contains(scheme),
            "{private}: {said}{}",
            String::from_utf8_lossy(&done.stderr)
        );
        // The check can fail: with the other key it does.
        let other = if public == "p256.pub" {
            "p256-sec1.pub"
        } else {
            "p256.pub"
        };
        assert!(
            !check(other).status.success(),
            "{private} verified with {other}"
        );
    }
}

fn append(path: &Path, text: &str) {
    let mut body = std::fs::read_to_string(path).unwrap();
    body.push_str(text);
    std::fs::write(path, body).unwrap();
}

fn edit_attestation(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join(ATTESTATION);
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

//! Signed provenance: `attestation/bundle-attestation.sigstore.json`.
//!
//! A bundle attestation is a Sigstore bundle (v0.3, protobuf JSON) whose
//! DSSE envelope signs an in-toto Statement v1. The statement's subject is
//! `checksums.txt` with its SHA-256, so one signature covers every file
//! that `checksums.txt` lists; its predicate is SLSA Build Provenance v1
//! (recipe, components, tool version, deployer, and the charts and
//! external manifests the bundle was built from).
//!
//! Signing is with a key the caller hands in (ECDSA P-256 or Ed25519 from
//! PEM); keyless signing (Fulcio and Rekor) needs the network and is not
//! here. Both signature schemes are deterministic (ECDSA nonces by RFC
//! 6979, Ed25519 by design), and the statement holds no time stamp and no
//! random id, unlike the reference's, so the same inputs and key give a
//! byte-identical attestation. Pure: keys come in as PEM text and bundles
//! as bytes; nothing here reads or writes a file.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
// ed25519-dalek and p256 share one `pkcs8` crate, so one import serves both.
use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use aicr_core::catalog::Components;
use aicr_core::criteria::Criteria;
use aicr_core::error::{Code, Error, Result};
use aicr_core::recipe::RecipeResult;

use crate::options::BundleOptions;

use crate::checksum::{CHECKSUMS_FILE, sha256_hex};
use crate::tree::FileTree;
use crate::vendor::VendoredChart;

/// The folder of attestation files in a bundle.
pub const ATTESTATION_DIR: &str = "attestation";
/// The bundle attestation, as the reference names it.
pub const BUNDLE_ATTESTATION_FILE: &str = "attestation/bundle-attestation.sigstore.json";
/// The Sigstore bundle media type we write.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// SLSA Build Provenance v1.
pub const SLSA_PROVENANCE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The build type of a bundle, as the reference names it.
pub const BUNDLE_BUILD_TYPE: &str = "https://aicr.nvidia.com/bundle/v1";
/// Largest attestation file `verify` reads (the reference's cap).
pub const MAX_ATTESTATION_BYTES: u64 = 10 * 1024 * 1024;

/// Whether an attestation file name is one that `checksums.txt` does not
/// list (it is signed over `checksums.txt`, so it cannot be listed in it).
pub fn is_attestation_file(path: &str) -> bool {
    path.strip_prefix("attestation/")
        .is_some_and(|name| !name.contains('/') && name.ends_with(".sigstore.json"))
}

/// One input of the build: a URI, with its SHA-256 when the bundle holds
/// the bytes (external manifests), without when it only names them
/// (charts, fetched at install time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// Where the input comes from.
    pub uri: String,
    /// Lowercase hex SHA-256 of its bytes, when known.
    pub sha256: Option<String>,
}

/// What the SLSA predicate records about the build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The recipe, as its criteria (`criteria(service=eks, ...)`).
    pub recipe: String,
    /// `embedded` (the catalog compiled in) or `external` (`--catalog`, `--data`).
    pub recipe_source: String,
    /// Component names, in deployment order.
    pub components: Vec<String>,
    /// The aicr version that built the bundle.
    pub tool_version: String,
    /// The deployer (`helm`, `argocd`, ...).
    pub deployer: String,
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// `buildDefinition.resolvedDependencies`.
    pub dependencies: Vec<Dependency>,
}

/// What signing a bundle takes besides the bundle: the key and the two
/// facts only the caller knows.
#[derive(Debug, Clone)]
pub struct Signing {
    /// The key.
    pub key: SigningKey,
    /// `embedded` or `external` (see [`Provenance::recipe_source`]).
    pub recipe_source: String,
    /// `runDetails.builder.id`.
    pub builder_id: String,
}

/// The provenance of the bundle of `recipe` (as prepared: disabled
/// components dropped): its criteria, components in deployment order,
/// each chart (`<repository>/<chart>@<version>`, no digest: charts are
/// fetched at install time) and each external manifest it names (its URL
/// and pinned SHA-256).
pub fn provenance(
    catalog: &Components,
    recipe: &RecipeResult,
    options: &BundleOptions,
    vendored: &[VendoredChart],
    signing: &Signing,
) -> Provenance {
    let mut dependencies = Vec::new();
    for c in &recipe.component_refs {
        if c.source.is_empty() || c.chart.is_empty() {
            continue;
        }
        let mut uri = format!("{}/{}", c.source.trim_end_matches('/'), c.chart);
        if !c.version.is_empty() {
            uri = format!("{uri}@{}", c.version);
        }
        // A vendored archive's digest is known: the bundle carries it.
        let sha256 = vendored
            .iter()
            .find(|v| v.component == c.name)
            .map(|v| v.sha256.clone());
        dependencies.push(Dependency { uri, sha256 });
    }
    for entry in catalog.external_files() {
        let named = recipe.component_refs.iter().any(|c| {
            c.manifest_files
                .iter()
                .chain(&c.pre_manifest_files)
                .any(|m| *m == entry.path)
        });
        if named {
            dependencies.push(Dependency {
                uri: entry.url.clone(),
                sha256: Some(entry.sha256.to_ascii_lowercase()),
            });
        }
    }
    Provenance {
        recipe: criteria_text(&recipe.criteria),
        recipe_source: signing.recipe_source.clone(),
        components: recipe.deployment_order.clone(),
        tool_version: options.tool_version.clone(),
        deployer: options.deployer.as_str().to_string(),
        builder_id: signing.builder_id.clone(),
        dependencies,
    }
}

/// `criteria(service=eks, accelerator=gb200, ...)`, as the reference
/// names a recipe: dimensions that are `any` left out.
fn criteria_text(c: &Criteria) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("service", c.service.to_string()),
        ("accelerator", c.accelerator.to_string()),
        ("intent", c.intent.to_string()),
        ("os", c.os.to_string()),
        ("platform", c.platform.to_string()),
    ] {
        if value != "any" {
            parts.push(format!("{name}={value}"));
        }
    }
    if c.nodes != 0 {
        parts.push(format!("nodes={}", c.nodes));
    }
    match parts.is_empty() {
        true => "criteria(any)".to_string(),
        false => format!("criteria({})", parts.join(", ")),
    }
}

/// A private key to sign with.
#[derive(Clone)]
pub enum SigningKey {
    /// ECDSA on P-256 with SHA-256 (cosign's default key type).
    P256(p256::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: the public key's hint names it.
        write!(f, "SigningKey({})", self.public_key().hint())
    }
}

/// A public key to verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// ECDSA on P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
}

fn invalid(what: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{what}: {why}"))
}

impl SigningKey {
    /// Reads a private key from PEM: PKCS#8 (`PRIVATE KEY`, P-256 or
    /// Ed25519) or SEC1 (`EC PRIVATE KEY`, P-256). An encrypted key
    /// (PKCS#8 or cosign's) is refused: decrypt it first. `origin` names
    /// the key in errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<SigningKey> {
        let what = format!("signing key {origin}");
        if pem.contains("ENCRYPTED") {
            return Err(invalid(
                &what,
                "the key is encrypted (cosign's `ENCRYPTED SIGSTORE PRIVATE KEY` or PKCS#8 `ENCRYPTED PRIVATE KEY`); decrypt it to a plain PKCS#8 PEM first (for PKCS#8: `openssl pkcs8 -in KEY -out PLAIN.pem`)",
            ));
        }
        if pem.contains("-----BEGIN EC PRIVATE KEY-----") {
            return p256::SecretKey::from_sec1_pem(pem)
                .map(|k| SigningKey::P256(k.into()))
                .map_err(|e| invalid(&what, format!("not a P-256 SEC1 key ({e})")));
        }
        if !pem.contains("-----BEGIN PRIVATE KEY-----") {
            return Err(invalid(
                &what,
                "expected a PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` block",
            ));
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::P256(key));
        }
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(SigningKey::Ed25519)
            .map_err(|_| {
                invalid(
                    &what,
                    "not an ECDSA P-256 or Ed25519 PKCS#8 key (the only key types supported)",
                )
            })
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// Signs `message`: a DER-encoded ECDSA signature over its SHA-256 (as
    /// cosign writes them), or a 64-byte Ed25519 signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            SigningKey::P256(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, message);
                sig.to_der().as_bytes().to_vec()
            }
            SigningKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
        }
    }
}

impl PublicKey {
    /// Reads a public key from a PEM `PUBLIC KEY` (SubjectPublicKeyInfo)
    /// block, P-256 or Ed25519.
    pub fn from_pem(pem: &str, origin: &str) -> Result<PublicKey> {
        let what = format!("public key {origin}");
        if !pem.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(invalid(&what, "expected a PEM `PUBLIC KEY` block"));
        }
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(key));
        }
        ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
            .map(PublicKey::Ed25519)
            .map_err(|_| invalid(&what, "not an ECDSA P-256 or Ed25519 public key"))
    }

    /// The DER SubjectPublicKeyInfo.
    fn spki_der(&self) -> Vec<u8> {
        let der = match self {
            PublicKey::P256(k) => k.to_public_key_der(),
            PublicKey::Ed25519(k) => k.to_public_key_der(),
        };
        // Encoding a valid key's SPKI cannot fail (fixed-size fields).
        der.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The key's hint, as Sigstore clients write it: the standard base64
    /// of the SHA-256 of its DER SubjectPublicKeyInfo.
    pub fn hint(&self) -> String {
        BASE64.encode(Sha256::digest(self.spki_der()))
    }

    /// Whether `signature` is this key's over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| p256::ecdsa::signature::Verifier::verify(k, message, &s).is_ok()),
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify_strict(message, &s).is_ok()),
        }
    }
}

/// DSSE's pre-authentication encoding: what is signed.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The in-toto statement: subject `checksums.txt` with the SHA-256 of
/// `checksums`, SLSA provenance from `provenance`.
pub fn statement(checksums: &[u8], provenance: &Provenance) -> Value {
    let dependencies: Vec<Value> = provenance
        .dependencies
        .iter()
        .map(|d| match &d.sha256 {
            Some(sha) => json!({"uri": d.uri, "digest": {"sha256": sha}}),
            None => json!({"uri": d.uri}),
        })
        .collect();
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": CHECKSUMS_FILE, "digest": {"sha256": sha256_hex(checksums)}}],
        "predicateType": SLSA_PROVENANCE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUNDLE_BUILD_TYPE,
                "externalParameters": {
                    "recipe": provenance.recipe,
                    "recipeSource": provenance.recipe_source,
                },
                "internalParameters": {
                    "components": provenance.components,
                    "toolVersion": provenance.tool_version,
                    "deployer": provenance.deployer,
                },
                "resolvedDependencies": dependencies,
            },
            // No invocationId and no startedOn: the reference writes a
            // random UUID and the clock there; we keep bundles
            // byte-identical for the same inputs.
            "runDetails": {"builder": {"id": provenance.builder_id}},
        },
    })
}

/// The Sigstore bundle that signs `statement` with `key`, as JSON text.
pub fn sign_statement(statement: &Value, key: &SigningKey) -> Vec<u8> {
    let payload = serde_json::to_vec(statement).unwrap_or_default();
    let signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let hint = key.public_key().hint();
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": hint}},
        "dsseEnvelope": {
            "payload": BASE64.encode(&payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": BASE64.encode(signature), "keyid": hint}],
        },
    });
    let mut text = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
    text.push(b'\n');
    text
}

/// Adds [`BUNDLE_ATTESTATION_FILE`] to a tree that has its
/// `checksums.txt` (which does not list the attestation).
pub fn attest(tree: &mut FileTree, provenance: &Provenance, key: &SigningKey) -> Result<()> {
    let checksums = tree
        .get(CHECKSUMS_FILE)
        .ok_or_else(|| Error::internal("attesting a bundle without checksums.txt"))?;
    let signed = sign_statement(&statement(&checksums.bytes, provenance), key);
    tree.insert(BUNDLE_ATTESTATION_FILE, signed);
    Ok(())
}

/// What a verified attestation says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The hint of the key that signed it.
    pub key_hint: String,
    /// `predicate.buildDefinition.internalParameters.toolVersion`, if any.
    pub tool_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BundleDoc {
    media_type: String,
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    #[serde(default)]
    signatures: Vec<Sig>,
}

#[derive(Deserialize)]
struct Sig {
    sig: String,
}

fn unauthorized(why: impl std::fmt::Display) -> Error {
    Error::new(Code::Unauthorized, why.to_string())
}

/// Verifies a Sigstore bundle's DSSE signature with `key` and binds it to
/// `checksums`: the statement must be an in-toto statement whose subject
/// `checksums.txt` has their SHA-256. Any failure is UNAUTHORIZED.
pub fn verify_attestation(bundle: &[u8], checksums: &[u8], key: &PublicKey) -> Result<Attested> {
    let doc: BundleDoc = serde_json::from_slice(bundle)
        .map_err(|e| unauthorized(format!("not a Sigstore bundle: {e}")))?;
    if !doc
        .media_type
        .starts_with("application/vnd.dev.sigstore.bundle")
    {
        return Err(unauthorized(format!(
            "unexpected media type {:?}",
            doc.media_type
        )));
    }
    let envelope = doc
        .dsse_envelope
        .ok_or_else(|| unauthorized("no dsseEnvelope"))?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(unauthorized(format!(
            "payload type {:?}, expected {PAYLOAD_TYPE}",
            envelope.payload_type
        )));
    }
    let payload = BASE64
        .decode(envelope.payload.as_bytes())
        .map_err(|_| unauthorized("the payload is not base64"))?;
    let signed = pae(PAYLOAD_TYPE, &payload);
    let good = envelope.signatures.iter().any(|s| {
        BASE64
            .decode(s.sig.as_bytes())
            .is_ok_and(|sig| key.verify(&signed, &sig))
    });
    if !good {
        return Err(unauthorized(
            "no signature in the envelope verifies with the given public key",
        ));
    }
    check_statement(&payload, checksums, key)
}

/// The signed statement must be about these `checksums`.
fn check_statement(payload: &[u8], checksums: &[u8], key: &PublicKey) -> Result<Attested> {
    let stmt: Value = serde_json::from_slice(payload)
        .map_err(|_| unauthorized("the signed payload is not JSON"))?;
    if stmt["_type"] != STATEMENT_TYPE {
        return Err(unauthorized(
            "the signed payload is not an in-toto Statement v1",
        ));
    }
    let want = sha256_hex(checksums);
    let bound = stmt["subject"].as_array().is_some_and(|subjects| {
        subjects
            .iter()
            .any(|s| s["name"] == CHECKSUMS_FILE && s["digest"]["sha256"] == want.as_str())
    });
    if !bound {
        return Err(unauthorized(format!(
            "the statement's subject is not {CHECKSUMS_FILE} with sha256 {want}"
        )));
    }
    let tool_version = stmt["predicate"]["buildDefinition"]["internalParameters"]["toolVersion"]
        .as_str()
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    Ok(Attested {
        key_hint: key.hint(),
        tool_version,
    })
}

#[cfg(test)]
mod tests;

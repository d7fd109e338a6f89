use super::*;

use ed25519_dalek::pkcs8::EncodePrivateKey as _;

fn p256_key() -> SigningKey {
    SigningKey::P256(p256::ecdsa::SigningKey::from_bytes(&[1u8; 32].into()).unwrap())
}

fn ed25519_key() -> SigningKey {
    SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]))
}

fn provenance() -> Provenance {
    Provenance {
        recipe: "criteria(service=eks)".into(),
        recipe_source: "embedded".into(),
        components: vec!["cert-manager".into(), "gpu-operator".into()],
        tool_version: "0.1.0".into(),
        deployer: "helm".into(),
        builder_id: "https://example.com/builder".into(),
        dependencies: vec![
            Dependency {
                uri: "https://helm.ngc.nvidia.com/nvidia/gpu-operator@v25.3.0".into(),
                sha256: None,
            },
            Dependency {
                uri: "https://example.com/crds.yaml".into(),
                sha256: Some("ab".repeat(32)),
            },
        ],
    }
}

fn signed_tree(key: &SigningKey) -> FileTree {
    let mut tree = FileTree::new();
    tree.insert("001-a/values.yaml", "a: 1\n");
    crate::checksum::add_checksums(&mut tree);
    attest(&mut tree, &provenance(), key).unwrap();
    tree
}

fn parts(tree: &FileTree) -> (Vec<u8>, Vec<u8>) {
    (
        tree.get(BUNDLE_ATTESTATION_FILE).unwrap().bytes.clone(),
        tree.get(CHECKSUMS_FILE).unwrap().bytes.clone(),
    )
}

#[test]
fn pae_is_the_dsse_spec_encoding() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
    assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
}

#[test]
fn the_statement_is_in_toto_v1_about_checksums_with_slsa_provenance() {
    let stmt = statement(b"x", &provenance());
    assert_eq!(stmt["_type"], STATEMENT_TYPE);
    assert_eq!(stmt["subject"][0]["name"], "checksums.txt");
    assert_eq!(stmt["subject"][0]["digest"]["sha256"], sha256_hex(b"x"));
    assert_eq!(stmt["predicateType"], SLSA_PROVENANCE_TYPE);
    let def = &stmt["predicate"]["buildDefinition"];
    assert_eq!(def["buildType"], BUNDLE_BUILD_TYPE);
    assert_eq!(def["externalParameters"]["recipeSource"], "embedded");
    assert_eq!(def["internalParameters"]["components"][1], "gpu-operator");
    assert_eq!(def["internalParameters"]["deployer"], "helm");
    assert_eq!(def["resolvedDependencies"][0].get("digest"), None);
    assert_eq!(
        def["resolvedDependencies"][1]["digest"]["sha256"],
        "ab".repeat(32)
    );
    let run = &stmt["predicate"]["runDetails"];
    assert_eq!(run["builder"]["id"], "https://example.com/builder");
    assert_eq!(run.get("metadata"), None, "no clock, no random id");
}

#[test]
fn both_key_types_sign_verifiably_and_deterministically() {
    for key in [p256_key(), ed25519_key()] {
        let tree = signed_tree(&key);
        let (bundle, sums) = parts(&tree);
        let got = verify_attestation(&bundle, &sums, &key.public_key()).unwrap();
        assert_eq!(got.key_hint, key.public_key().hint());
        assert_eq!(got.tool_version.as_deref(), Some("0.1.0"));
        assert_eq!(signed_tree(&key), tree, "same inputs, same bytes");
        let doc: Value = serde_json::from_slice(&bundle).unwrap();
        assert_eq!(doc["mediaType"], BUNDLE_MEDIA_TYPE);
        assert_eq!(
            doc["verificationMaterial"]["publicKey"]["hint"],
            got.key_hint
        );
        assert_eq!(doc["dsseEnvelope"]["payloadType"], PAYLOAD_TYPE);
    }
}

#[test]
fn the_checksums_file_does_not_list_the_attestation() {
    let tree = signed_tree(&ed25519_key());
    let sums = String::from_utf8(parts(&tree).1).unwrap();
    assert!(!sums.contains("attestation/"), "{sums}");
    assert!(is_attestation_file(BUNDLE_ATTESTATION_FILE));
    assert!(!is_attestation_file("attestation/x/y.sigstore.json"));
    assert!(!is_attestation_file("attestation/notes.txt"));
}

#[test]
fn a_wrong_key_fails() {
    let (bundle, sums) = parts(&signed_tree(&p256_key()));
    for other in [
        ed25519_key(),
        SigningKey::P256(p256::ecdsa::SigningKey::from_bytes(&[2u8; 32].into()).unwrap()),
    ] {
        let err = verify_attestation(&bundle, &sums, &other.public_key()).unwrap_err();
        assert_eq!(err.code(), Code::Unauthorized, "{err}");
    }
}

/// The bundle with `edit` applied to its JSON.
fn edited(bundle: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(bundle).unwrap();
    edit(&mut doc);
    serde_json::to_vec(&doc).unwrap()
}

#[test]
fn a_tampered_payload_signature_or_checksums_file_fails() {
    for key in [p256_key(), ed25519_key()] {
        let public = key.public_key();
        let (bundle, sums) = parts(&signed_tree(&key));
        let env = "dsseEnvelope";
        let payload = |doc: &Value| {
            BASE64
                .decode(doc[env]["payload"].as_str().unwrap())
                .unwrap()
        };

        let swapped = edited(&bundle, |doc| {
            let mut stmt: Value = serde_json::from_slice(&payload(doc)).unwrap();
            stmt["predicate"]["buildDefinition"]["internalParameters"]["toolVersion"] =
                "9.9.9".into();
            doc[env]["payload"] = BASE64.encode(serde_json::to_vec(&stmt).unwrap()).into();
        });
        let flipped = edited(&bundle, |doc| {
            let mut sig = BASE64
                .decode(doc[env]["signatures"][0]["sig"].as_str().unwrap())
                .unwrap();
            let last = sig.len() - 1;
            sig[last] ^= 1;
            doc[env]["signatures"][0]["sig"] = BASE64.encode(sig).into();
        });
        let unsigned = edited(&bundle, |doc| doc[env]["signatures"] = json!([]));
        let retyped = edited(&bundle, |doc| doc[env]["payloadType"] = "text/plain".into());
        for bad in [swapped, flipped, unsigned, retyped] {
            let err = verify_attestation(&bad, &sums, &public).unwrap_err();
            assert_eq!(err.code(), Code::Unauthorized, "{err}");
        }
        let mut other_sums = sums.clone();
        other_sums.extend_from_slice(b"00  extra\n");
        let err = verify_attestation(&bundle, &other_sums, &public).unwrap_err();
        assert!(err.to_string().contains("subject"), "{err}");
        assert!(verify_attestation(b"{", &sums, &public).is_err());
    }
}

#[test]
fn keys_are_read_from_pem_and_encrypted_keys_are_refused() {
    let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let pem = ed.to_pkcs8_pem(Default::default()).unwrap();
    let key = SigningKey::from_pem(&pem, "k.pem").unwrap();
    assert!(matches!(key, SigningKey::Ed25519(_)));

    let ec = p256::SecretKey::from_slice(&[1u8; 32]).unwrap();
    let pkcs8 = p256::pkcs8::EncodePrivateKey::to_pkcs8_pem(&ec, Default::default()).unwrap();
    let sec1 = ec.to_sec1_pem(Default::default()).unwrap();
    for pem in [pkcs8.as_str(), sec1.as_str()] {
        let key = SigningKey::from_pem(pem, "k.pem").unwrap();
        assert_eq!(key.public_key(), p256_key().public_key());
    }

    let public = p256_key().public_key();
    let spki = match &public {
        PublicKey::P256(k) => k.to_public_key_pem(Default::default()).unwrap(),
        PublicKey::Ed25519(_) => unreachable!(),
    };
    assert_eq!(PublicKey::from_pem(&spki, "p.pem").unwrap(), public);
    assert!(format!("{:?}", p256_key()).contains(&public.hint()));

    for bad in [
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n",
    ] {
        let err = SigningKey::from_pem(bad, "k.pem").unwrap_err();
        assert_eq!(err.code(), Code::InvalidRequest);
        assert!(err.to_string().contains("decrypt"), "{err}");
    }
    assert!(SigningKey::from_pem("hello", "k.pem").is_err());
    assert!(SigningKey::from_pem(&spki, "k.pem").is_err());
    assert!(PublicKey::from_pem(&pem, "p.pem").is_err());
}

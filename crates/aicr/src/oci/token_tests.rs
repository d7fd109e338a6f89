//! The Bearer token flow against a scripted registry on loopback (the
//! distribution registry in the CLI tests speaks only basic auth): a 401
//! with a `Bearer` challenge, a token endpoint that checks the basic
//! credentials and the scope, then the manifest and the layer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;

/// One request as the fake saw it: request line and Authorization.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Serves `answer(request line, authorization)` on every request of every
/// connection until the test ends.
fn fake(
    answer: impl Fn(&str, &str) -> (u16, Vec<(String, String)>, Vec<u8>) + Send + Sync + 'static,
) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (answer, log) = (answer.clone(), log.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut auth, mut length) = (String::new(), 0usize);
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        let (k, v) = header.split_once(": ").unwrap();
                        match k.to_ascii_lowercase().as_str() {
                            "authorization" => auth = v.to_string(),
                            "content-length" => length = v.parse().unwrap(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let line = line.trim_end().to_string();
                    log.lock().unwrap().push((line.clone(), auth.clone()));
                    let (status, headers, body) = answer(&line, &auth);
                    let mut head = format!("HTTP/1.1 {status} X\r\n");
                    if !headers.iter().any(|(k, _)| k == "content-length") {
                        head.push_str(&format!("content-length: {}\r\n", body.len()));
                    }
                    for (k, v) in headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    out.write_all(head.as_bytes()).unwrap();
                    out.write_all(&body).unwrap();
                }
            });
        }
    });
    (port, seen)
}

#[test]
fn a_bearer_challenge_is_answered_with_a_token_for_the_repository_scope() {
    let mut tree = aicr_bundle::FileTree::new();
    tree.insert("values.yaml", "a: 1\n");
    aicr_bundle::checksum::add_checksums(&mut tree);
    let artifact = pack::pack(&tree, "v1").unwrap();
    let basic = Credentials::new("robot", "pw").basic();
    let port_cell = Arc::new(Mutex::new(0u16));
    let port_seen = port_cell.clone();
    let manifest = artifact.manifest.clone();
    let layer = artifact.layer.clone();
    let layer_path = format!("/v2/team/bundle/blobs/{}", artifact.layer_digest);
    let (port, seen) = fake(move |line, auth| {
        let port = *port_seen.lock().unwrap();
        let path = line.split(' ').nth(1).unwrap_or("");
        if path.starts_with("/token?") {
            let right_scope = path.contains("scope=repository%3Ateam%2Fbundle%3Apull")
                && path.contains("service=fake.registry");
            return if auth == basic && right_scope {
                (200, vec![], br#"{"token":"tok-123"}"#.to_vec())
            } else {
                (401, vec![], Vec::new())
            };
        }
        if auth != "Bearer tok-123" {
            let challenge = format!(
                r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake.registry",scope="repository:team/bundle:pull""#
            );
            return (
                401,
                vec![("www-authenticate".into(), challenge)],
                Vec::new(),
            );
        }
        match path {
            "/v2/team/bundle/manifests/v1" => (
                200,
                vec![("content-type".into(), pack::MANIFEST_MEDIA_TYPE.into())],
                manifest.clone(),
            ),
            p if p == layer_path => (200, vec![], layer.clone()),
            _ => (404, vec![], Vec::new()),
        }
    });
    *port_cell.lock().unwrap() = port;
    let reference = OciReference::parse(&format!("oci://127.0.0.1:{port}/team/bundle:v1")).unwrap();
    let options = RegistryOptions {
        plain_http: true,
        username: Some("robot".into()),
        password: Some("pw".into()),
        ..RegistryOptions::default()
    };
    let pulled = crate::block_on(pull(&options, &reference)).unwrap();
    assert_eq!(pulled.tree, tree);
    assert_eq!(pulled.digest, artifact.manifest_digest);
    let seen = seen.lock().unwrap().clone();
    // Anonymous first, then the token, then everything with the token.
    assert_eq!(seen[0].1, "");
    assert!(seen[1].0.contains("/token?"), "{seen:?}");
    assert!(
        seen[2..].iter().all(|(_, auth)| auth == "Bearer tok-123"),
        "{seen:?}"
    );

    // Wrong credentials: the token endpoint refuses, UNAUTHORIZED.
    let wrong = RegistryOptions {
        password: Some("nope".into()),
        ..options
    };
    let err = crate::block_on(pull(&wrong, &reference)).unwrap_err();
    assert_eq!(err.code(), Code::Unauthorized, "{err}");
    assert!(!err.to_string().contains("nope"), "{err}");
}

#[test]
fn a_manifest_that_is_not_an_aicr_bundle_is_refused() {
    let other = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.to_vec();
    let (port, _) = fake(move |_, _| (200, vec![], other.clone()));
    let reference = OciReference::parse(&format!("oci://127.0.0.1:{port}/x/y:v1")).unwrap();
    let options = RegistryOptions {
        plain_http: true,
        ..RegistryOptions::default()
    };
    let err = crate::block_on(pull(&options, &reference)).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert!(err.to_string().contains("not an AICR bundle"), "{err}");
}

#[test]
fn blobs_the_registry_has_are_not_uploaded_again_however_large() {
    let mut tree = aicr_bundle::FileTree::new();
    tree.insert("values.yaml", "a: 1\n");
    let artifact = pack::pack(&tree, "v1").unwrap();
    let digest = artifact.manifest_digest.clone();
    let (port, seen) = fake(move |line, _| {
        if line.starts_with("HEAD ") {
            // The size of a large layer: no body follows a HEAD answer.
            return (
                200,
                vec![("content-length".into(), "900000000".into())],
                Vec::new(),
            );
        }
        if line.starts_with("PUT /v2/a/b/manifests/v1 ") {
            return (
                201,
                vec![("docker-content-digest".into(), digest.clone())],
                Vec::new(),
            );
        }
        (500, vec![], Vec::new())
    });
    let reference = OciReference::parse(&format!("oci://127.0.0.1:{port}/a/b:v1")).unwrap();
    let options = RegistryOptions {
        plain_http: true,
        ..RegistryOptions::default()
    };
    let pushed = crate::block_on(push(&options, &reference, &artifact)).unwrap();
    assert_eq!(pushed.digest, artifact.manifest_digest);
    let lines: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(l, _)| l.clone())
        .collect();
    assert_eq!(lines.len(), 3, "two HEADs and the manifest: {lines:?}");
    assert!(lines.iter().all(|l| !l.starts_with("POST")), "{lines:?}");
}

#[test]
fn a_registry_that_reports_another_digest_is_refused() {
    let mut tree = aicr_bundle::FileTree::new();
    tree.insert("values.yaml", "a: 1\n");
    let artifact = pack::pack(&tree, "v1").unwrap();
    let (port, _) = fake(move |line, _| {
        if line.starts_with("HEAD ") {
            return (200, vec![], Vec::new());
        }
        let other = format!("sha256:{}", "0".repeat(64));
        (
            201,
            vec![("docker-content-digest".into(), other)],
            Vec::new(),
        )
    });
    let reference = OciReference::parse(&format!("oci://127.0.0.1:{port}/a/b:v1")).unwrap();
    let options = RegistryOptions {
        plain_http: true,
        ..RegistryOptions::default()
    };
    let err = crate::block_on(push(&options, &reference, &artifact)).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    assert!(err.to_string().contains("reports digest"), "{err}");
}

//! Bundles in OCI registries: push an artifact packed by
//! [`aicr_bundle::oci`], pull one back, over the one HTTP client
//! ([`crate::http`]) and the OCI distribution API (`/v2/...`).
//!
//! Push: every blob is checked with `HEAD` and uploaded only when missing
//! (a monolithic `POST` then `PUT ?digest=`), then the manifest is `PUT`
//! under its tag; the digests the registry echoes in
//! `Docker-Content-Digest` must be ours. Pull: the manifest is fetched
//! with the OCI `Accept`, checked (media type, `artifactType`, one
//! tar+gzip layer, digest when named), the layer fetched, checked against
//! its digest and size, and unpacked strictly.
//!
//! Authentication: anonymous first; a 401 with a `Basic` challenge is
//! answered with the credentials, a `Bearer` challenge by the token flow
//! (the realm's token endpoint, with the credentials as basic
//! authentication when there are any). Credentials never appear in a
//! message. Each request has a deadline (TIMEOUT); statuses map to codes:
//! 401/403 UNAUTHORIZED, 404 NOT_FOUND, 408/429/5xx SERVICE_UNAVAILABLE,
//! other 4xx INVALID_REQUEST.

mod auth;
mod ops;
mod reference;

use std::path::PathBuf;
use std::time::Duration;

use aicr_bundle::oci::{self as pack, Artifact, Manifest};
use aicr_core::{Code, Error, Result, error::escape};
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};

use crate::http::{Answer, HttpClient, Tls};
pub use auth::Credentials;
pub use reference::OciReference;

/// Deadline of one registry request (a blob upload included).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest manifest we read.
const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// Largest layer we download (compressed); unpacking has its own caps.
pub const MAX_LAYER_BYTES: u64 = 128 * 1024 * 1024;
/// Largest error or token body we read.
const MAX_SMALL_BODY: u64 = 64 * 1024;

/// How to reach a registry: transport and credentials. Filled in by a
/// frontend; [`RegistryOptions::credentials`] applies the rules.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RegistryOptions {
    /// `--plain-http`: talk HTTP, not HTTPS.
    pub plain_http: bool,
    /// `--insecure-tls`: accept any server certificate.
    pub insecure_tls: bool,
    /// `--registry-username`.
    pub username: Option<String>,
    /// The password read from standard input (`--registry-password-stdin`).
    pub password: Option<String>,
    /// The Docker config file to read credentials from when no user name
    /// is given (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
    /// found by the frontend).
    pub docker_config: Option<PathBuf>,
    /// Per-request deadline; [`REQUEST_TIMEOUT`] when `None`.
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("plain_http", &self.plain_http)
            .field("insecure_tls", &self.insecure_tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("docker_config", &self.docker_config)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RegistryOptions {
    /// The credentials for `registry`: the flags' user name and password
    /// (both or neither), else the Docker config's `auths` entry, else
    /// none. The second value names a credential helper the config sets
    /// for this registry, which we do not run.
    fn credentials(&self, registry: &str) -> Result<(Option<Credentials>, Option<String>)> {
        match (&self.username, &self.password) {
            (Some(user), Some(password)) if !user.trim().is_empty() => {
                return Ok((Some(Credentials::new(user.trim(), password.clone())), None));
            }
            (Some(_), _) => {
                return Err(Error::invalid(
                    "--registry-username needs a password on standard input (--registry-password-stdin)",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "--registry-password-stdin needs --registry-username",
                ));
            }
            (None, None) => {}
        }
        let Some(path) = &self.docker_config else {
            return Ok((None, None));
        };
        Ok(match auth::docker_config(path, registry)? {
            auth::DockerConfig::Found(c) => (Some(c), None),
            auth::DockerConfig::Helper(name) => (None, Some(name)),
            auth::DockerConfig::Nothing => (None, None),
        })
    }
}

/// A pushed artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The reference pushed to (tag applied).
    pub reference: OciReference,
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
}

impl Pushed {
    /// `registry/repository:tag@sha256:...`, what `--image-refs` records.
    pub fn image_ref(&self) -> String {
        let tag = self
            .reference
            .tag
            .as_ref()
            .map(|t| format!(":{t}"))
            .unwrap_or_default();
        format!("{}{tag}@{}", self.reference.name(), self.digest)
    }
}

/// A pulled bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The bundle's files.
    pub tree: aicr_bundle::FileTree,
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
}

/// Pushes `artifact` to `reference`, which must carry a tag.
pub async fn push(
    options: &RegistryOptions,
    reference: &OciReference,
    artifact: &Artifact,
) -> Result<Pushed> {
    let Some(tag) = reference.tag.clone() else {
        return Err(Error::invalid(format!(
            "{}: pushing needs a tag, not a digest",
            escape(&reference.to_string())
        )));
    };
    let mut session = Session::open(options, reference, "pull,push")?;
    for (digest, bytes) in artifact.blobs() {
        if !session.blob_exists(&digest).await? {
            session.upload(&digest, bytes).await?;
        }
    }
    let url = session.url(&format!("manifests/{tag}"));
    let what = format!("pushing the manifest to {reference}");
    let answer = session
        .call(
            Method::PUT,
            &url,
            &[(header::CONTENT_TYPE, pack::MANIFEST_MEDIA_TYPE)],
            Bytes::from(artifact.manifest.clone()),
            &what,
        )
        .await?;
    expect(&answer, &[StatusCode::CREATED, StatusCode::OK], &what)?;
    echoed_digest(&answer, &artifact.manifest_digest, &what)?;
    Ok(Pushed {
        reference: reference.clone(),
        digest: artifact.manifest_digest.clone(),
    })
}

/// Pulls the bundle at `reference` (a tag or a digest).
pub async fn pull(options: &RegistryOptions, reference: &OciReference) -> Result<Pulled> {
    let (mut session, answer, digest) = fetch_manifest(options, reference).await?;
    let shown = reference.to_string();
    let manifest = check_manifest(&answer, &shown)?;
    let layer = &manifest.layers[0];
    let bytes = fetch_layer(&mut session, layer, MAX_LAYER_BYTES, &shown, "bundle layer")
        .await?
        .ok_or_else(|| {
            bad_artifact(
                &shown,
                "its layer does not match the size and digest in the manifest",
            )
        })?;
    let tree = pack::unpack(&bytes).map_err(|e| e.context(escape(&shown)))?;
    Ok(Pulled { tree, digest })
}

/// Media type of a Helm chart's config blob in an OCI registry.
pub const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of a Helm chart's archive layer in an OCI registry.
pub const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// Pulls the chart archive (`.tgz`) that `helm push` stored at
/// `reference` (`<registry>/<path>/<chart>:<version>`), capped at `limit`
/// bytes; returns it with its layer digest, which the registry's manifest
/// vouches for and which is checked here.
pub async fn pull_helm_chart(
    options: &RegistryOptions,
    reference: &OciReference,
    limit: u64,
) -> Result<(Vec<u8>, String)> {
    let (mut session, answer, _) = fetch_manifest(options, reference).await?;
    let shown = reference.to_string();
    let manifest: Manifest = serde_json::from_slice(&answer.body)
        .map_err(|_| bad_artifact(&shown, "its manifest is not an OCI image manifest"))?;
    if manifest.config.media_type != HELM_CONFIG_MEDIA_TYPE {
        return Err(bad_artifact(
            &shown,
            &format!(
                "it is not a Helm chart (config media type {:?}, not {HELM_CONFIG_MEDIA_TYPE})",
                escape(&manifest.config.media_type)
            ),
        ));
    }
    let mut charts = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == HELM_CHART_MEDIA_TYPE);
    let (Some(layer), None) = (charts.next(), charts.next()) else {
        return Err(bad_artifact(
            &shown,
            &format!("it must have exactly one {HELM_CHART_MEDIA_TYPE} layer"),
        ));
    };
    if layer.size > limit || !reference::is_sha256_digest(&layer.digest) {
        return Err(bad_artifact(
            &shown,
            &format!("its chart layer is over the {limit}-byte limit or not sha256-addressed"),
        ));
    }
    let bytes = fetch_layer(&mut session, layer, limit, &shown, "chart layer")
        .await?
        .ok_or_else(|| {
            Error::new(
                Code::Unauthorized,
                format!(
                    "{}: its chart layer does not match the size and digest in the manifest",
                    escape(&shown)
                ),
            )
        })?;
    Ok((bytes, layer.digest.clone()))
}

/// Opens a pull session and fetches the manifest at `reference`'s tag or
/// digest: a 200 answer, the digest asked for (if any) and the digest the
/// registry echoes are checked. Returns the session, the answer and the
/// manifest's digest.
async fn fetch_manifest(
    options: &RegistryOptions,
    reference: &OciReference,
) -> Result<(Session, Answer, String)> {
    let Some(target) = reference.target() else {
        return Err(Error::invalid(format!(
            "{}: pulling needs a tag or a digest",
            escape(&reference.to_string())
        )));
    };
    let mut session = Session::open(options, reference, "pull")?;
    let shown = reference.to_string();
    let what = format!("fetching the manifest of {shown}");
    let url = session.url(&format!("manifests/{target}"));
    session.limit = MAX_MANIFEST_BYTES;
    let answer = session
        .call(
            Method::GET,
            &url,
            &[(header::ACCEPT, pack::MANIFEST_MEDIA_TYPE)],
            Bytes::new(),
            &what,
        )
        .await?;
    expect(&answer, &[StatusCode::OK], &what)?;
    let digest = pack::digest(&answer.body);
    if let Some(want) = &reference.digest
        && *want != digest
    {
        return Err(bad_artifact(
            &shown,
            "its manifest does not match the digest asked for",
        ));
    }
    echoed_digest(&answer, &digest, &what)?;
    Ok((session, answer, digest))
}

/// Downloads the blob `layer` names, within `limit` bytes; `None` when it
/// does not have the size and digest the manifest gives (the caller says
/// what that means for its artifact).
async fn fetch_layer(
    session: &mut Session,
    layer: &pack::Descriptor,
    limit: u64,
    shown: &str,
    kind: &str,
) -> Result<Option<Vec<u8>>> {
    let what = format!("fetching the {kind} of {shown}");
    session.limit = limit;
    let answer = session.get_blob(&layer.digest, &what).await?;
    let intact =
        answer.body.len() as u64 == layer.size && pack::digest(&answer.body) == layer.digest;
    Ok(intact.then_some(answer.body))
}

/// The manifest must be an OCI image manifest of an AICR bundle with one
/// tar+gzip layer no larger than we download.
fn check_manifest(answer: &Answer, shown: &str) -> Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(&answer.body)
        .map_err(|_| bad_artifact(shown, "its manifest is not an OCI image manifest"))?;
    let content_type = answer
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = if manifest.media_type.is_empty() {
        content_type
    } else {
        manifest.media_type.as_str()
    };
    if media_type != pack::MANIFEST_MEDIA_TYPE || manifest.schema_version != 2 {
        return Err(bad_artifact(
            shown,
            &format!(
                "its manifest has media type {:?}, not {}",
                escape(media_type),
                pack::MANIFEST_MEDIA_TYPE
            ),
        ));
    }
    if manifest.artifact_type != pack::ARTIFACT_TYPE {
        return Err(bad_artifact(
            shown,
            &format!(
                "it is not an AICR bundle (artifactType {:?}, not {})",
                escape(&manifest.artifact_type),
                pack::ARTIFACT_TYPE
            ),
        ));
    }
    match manifest.layers.as_slice() {
        [layer] if layer.media_type == pack::LAYER_MEDIA_TYPE => {
            if layer.size > MAX_LAYER_BYTES {
                return Err(bad_artifact(
                    shown,
                    &format!("its layer is over the {MAX_LAYER_BYTES}-byte limit"),
                ));
            }
            if !reference::is_sha256_digest(&layer.digest) {
                return Err(bad_artifact(shown, "its layer digest is not sha256"));
            }
        }
        _ => {
            return Err(bad_artifact(
                shown,
                &format!("it must have exactly one {} layer", pack::LAYER_MEDIA_TYPE),
            ));
        }
    }
    Ok(manifest)
}

fn bad_artifact(shown: &str, why: &str) -> Error {
    Error::invalid(format!("{}: {why}", escape(shown)))
}

/// One conversation with one repository of one registry: the transport,
/// the credentials and the `Authorization` the last challenge earned.
struct Session {
    http: HttpClient,
    /// `https://host[:port]` (or `http://`).
    base: String,
    repository: String,
    registry: String,
    /// `pull` or `pull,push`: the token scope the operation needs.
    actions: &'static str,
    credentials: Option<Credentials>,
    helper: Option<String>,
    authorization: Option<HeaderValue>,
    timeout: Duration,
    plain_http: bool,
    /// Body cap of the next requests.
    limit: u64,
}

impl Session {
    fn open(
        options: &RegistryOptions,
        reference: &OciReference,
        actions: &'static str,
    ) -> Result<Self> {
        let (credentials, helper) = options.credentials(&reference.registry)?;
        let tls = if options.insecure_tls {
            Tls::AcceptAny
        } else {
            Tls::Verify
        };
        let scheme = if options.plain_http { "http" } else { "https" };
        Ok(Session {
            http: HttpClient::new(tls)?,
            base: format!("{scheme}://{}", reference.api_host()),
            repository: reference.repository.clone(),
            registry: reference.registry.clone(),
            actions,
            credentials,
            helper,
            authorization: None,
            timeout: options.timeout.unwrap_or(REQUEST_TIMEOUT),
            plain_http: options.plain_http,
            limit: MAX_SMALL_BODY,
        })
    }

    /// `<base>/v2/<repository>/<rest>`.
    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.repository)
    }

    async fn blob_exists(&mut self, digest: &str) -> Result<bool> {
        let what = format!("checking blob {digest} in {}", self.registry);
        let url = self.url(&format!("blobs/{digest}"));
        let answer = self
            .call(Method::HEAD, &url, &[], Bytes::new(), &what)
            .await?;
        match answer.status {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(status_error(&answer, &what)),
        }
    }

    /// A monolithic upload: `POST` opens it, one `PUT ?digest=` ends it.
    async fn upload(&mut self, digest: &str, bytes: &[u8]) -> Result<()> {
        let what = format!("uploading blob {digest} to {}", self.registry);
        let url = self.url("blobs/uploads/");
        let answer = self
            .call(Method::POST, &url, &[], Bytes::new(), &what)
            .await?;
        expect(&answer, &[StatusCode::ACCEPTED], &what)?;
        let location = answer
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Error::new(
                    Code::ServiceUnavailable,
                    format!("{what}: the registry gave no upload location"),
                )
            })?;
        let mut url = self.absolute(location);
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={}", auth::query_escape(digest)));
        let answer = self
            .call(
                Method::PUT,
                &url,
                &[(header::CONTENT_TYPE, "application/octet-stream")],
                Bytes::copy_from_slice(bytes),
                &what,
            )
            .await?;
        expect(&answer, &[StatusCode::CREATED], &what)?;
        echoed_digest(&answer, digest, &what)
    }

    /// A blob, following the redirects registries send to their storage
    /// (credentials go only to the registry itself).
    async fn get_blob(&mut self, digest: &str, what: &str) -> Result<Answer> {
        let mut url = self.url(&format!("blobs/{digest}"));
        for _ in 0..5 {
            let answer = self
                .call(Method::GET, &url, &[], Bytes::new(), what)
                .await?;
            if !answer.status.is_redirection() {
                expect(&answer, &[StatusCode::OK], what)?;
                return Ok(answer);
            }
            let location = answer
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| status_error(&answer, what))?;
            url = self.absolute(location);
        }
        Err(Error::new(
            Code::ServiceUnavailable,
            format!("{what}: too many redirects"),
        ))
    }

    /// A `Location` as a full URL (registries send paths or URLs).
    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}/{}", self.base, location.trim_start_matches('/'))
        }
    }

    /// Sends a request; on a 401 with a challenge we can answer, earns an
    /// `Authorization` and sends it once more. A 401/403 after that is
    /// UNAUTHORIZED.
    async fn call(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(header::HeaderName, &str)],
        body: Bytes,
        what: &str,
    ) -> Result<Answer> {
        let first = self.send(&method, url, headers, body.clone(), what).await?;
        if first.status != StatusCode::UNAUTHORIZED || !self.is_registry(url) {
            return Ok(first);
        }
        self.authenticate(&first, what).await?;
        let second = self.send(&method, url, headers, body, what).await?;
        if matches!(
            second.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(self.refused(what));
        }
        Ok(second)
    }

    fn is_registry(&self, url: &str) -> bool {
        url.strip_prefix(&self.base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    async fn send(
        &self,
        method: &Method,
        url: &str,
        headers: &[(header::HeaderName, &str)],
        body: Bytes,
        what: &str,
    ) -> Result<Answer> {
        let mut request = hyper::Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        if let Some(authorization) = &self.authorization
            && self.is_registry(url)
        {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        let request = request.body(Full::new(body)).map_err(|e| {
            Error::invalid(format!("{what}: {} is not a valid URL", escape(url))).with_source(e)
        })?;
        match tokio::time::timeout(self.timeout, self.http.send(request, self.limit, what)).await {
            Ok(answer) => answer,
            Err(_) => Err(Error::new(
                Code::Timeout,
                format!(
                    "{what}: no complete answer within {} s",
                    self.timeout.as_secs_f32()
                ),
            )),
        }
    }

    /// Answers the challenge of a 401: basic credentials, or a token.
    async fn authenticate(&mut self, answer: &Answer, what: &str) -> Result<()> {
        let challenge = answer
            .headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge)
            .ok_or_else(|| self.refused(what))?;
        let value = match challenge {
            auth::Challenge::Basic => match &self.credentials {
                Some(credentials) => credentials.basic(),
                None => return Err(self.refused(what)),
            },
            auth::Challenge::Bearer { realm, service } => {
                format!(
                    "Bearer {}",
                    self.token(&realm, service.as_deref(), what).await?
                )
            }
        };
        self.authorization =
            Some(HeaderValue::from_str(&value).map_err(|_| {
                Error::new(Code::Unauthorized, format!("{what}: an unusable token"))
            })?);
        Ok(())
    }

    /// The token flow: `GET realm?service=...&scope=repository:<repo>:<actions>`,
    /// with basic credentials when there are any; the answer's `token` (or
    /// `access_token`).
    async fn token(&self, realm: &str, service: Option<&str>, what: &str) -> Result<String> {
        if !(realm.starts_with("https://") || (self.plain_http && realm.starts_with("http://"))) {
            return Err(Error::new(
                Code::Unauthorized,
                format!(
                    "{what}: the registry's token endpoint {} is not https",
                    escape(realm)
                ),
            ));
        }
        let scope = format!("repository:{}:{}", self.repository, self.actions);
        let mut url = format!("{realm}{}", if realm.contains('?') { '&' } else { '?' });
        if let Some(service) = service {
            url.push_str(&format!("service={}&", auth::query_escape(service)));
        }
        url.push_str(&format!("scope={}", auth::query_escape(&scope)));
        let mut request = hyper::Request::get(&url);
        if let Some(credentials) = &self.credentials {
            request = request.header(header::AUTHORIZATION, credentials.basic());
        }
        let request = request.body(Full::new(Bytes::new())).map_err(|e| {
            Error::new(
                Code::Unauthorized,
                format!(
                    "{what}: the token endpoint {} is not a valid URL",
                    escape(realm)
                ),
            )
            .with_source(e)
        })?;
        let token_what = format!("{what}: asking {} for a token", escape(realm));
        let answer = tokio::time::timeout(
            self.timeout,
            self.http.send(request, MAX_SMALL_BODY, &token_what),
        )
        .await
        .map_err(|_| Error::new(Code::Timeout, format!("{token_what}: no answer in time")))??;
        if matches!(
            answer.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(self.refused(what));
        }
        expect(&answer, &[StatusCode::OK], &token_what)?;
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::new(
                    Code::Unauthorized,
                    format!("{token_what}: the answer holds no token"),
                )
            })
    }

    /// UNAUTHORIZED, saying what to do: the credentials were refused, or
    /// none were found (and a credential helper we do not run is named).
    fn refused(&self, what: &str) -> Error {
        let registry = escape(&self.registry);
        let message = match (&self.credentials, &self.helper) {
            (Some(c), _) => format!(
                "{what}: {registry} refused the credentials of user {}",
                escape(&c.username)
            ),
            (None, Some(helper)) => format!(
                "{what}: {registry} needs a login; the Docker config names the credential helper {:?}, which aicr does not run: pass --registry-username and --registry-password-stdin",
                escape(helper)
            ),
            (None, None) => format!(
                "{what}: {registry} needs a login: pass --registry-username and --registry-password-stdin, or run docker login"
            ),
        };
        Error::new(Code::Unauthorized, message)
    }
}

/// The status must be one of `ok`; otherwise the error its status maps to.
fn expect(answer: &Answer, ok: &[StatusCode], what: &str) -> Result<()> {
    if ok.contains(&answer.status) {
        Ok(())
    } else {
        Err(status_error(answer, what))
    }
}

/// A registry status as an error, with the registry's own error message
/// (OCI `{"errors":[{"code","message"}]}`) when it sent one.
fn status_error(answer: &Answer, what: &str) -> Error {
    let code = match answer.status.as_u16() {
        401 | 403 => Code::Unauthorized,
        404 => Code::NotFound,
        408 | 429 | 500..=599 => Code::ServiceUnavailable,
        400..=499 => Code::InvalidRequest,
        _ => Code::ServiceUnavailable,
    };
    let detail = serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| {
            let e = v.get("errors")?.get(0)?;
            Some(format!(
                ": {} {}",
                e.get("code")?.as_str()?,
                e.get("message").and_then(|m| m.as_str()).unwrap_or("")
            ))
        })
        .map(|d| escape(&d.chars().take(300).collect::<String>()))
        .unwrap_or_default();
    Error::new(
        code,
        format!("{what}: the registry answered {}{detail}", answer.status),
    )
}

/// A sha256 `Docker-Content-Digest` the registry sends must be the one we
/// computed (another algorithm is not ours to compare).
fn echoed_digest(answer: &Answer, want: &str, what: &str) -> Result<()> {
    match answer
        .headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
    {
        Some(got) if got.starts_with("sha256:") && got != want => Err(Error::invalid(format!(
            "{what}: the registry reports digest {}, but the content's digest is {want}",
            escape(got)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_needs_a_password_and_flags_beat_the_docker_config() {
        let only_user = RegistryOptions {
            username: Some("me".into()),
            ..RegistryOptions::default()
        };
        assert_eq!(
            only_user.credentials("r").unwrap_err().code(),
            Code::InvalidRequest
        );
        let only_password = RegistryOptions {
            password: Some("pw".into()),
            ..RegistryOptions::default()
        };
        assert!(only_password.credentials("r").is_err());
        let both = RegistryOptions {
            username: Some("me".into()),
            password: Some("pw".into()),
            docker_config: Some("/nonexistent/config.json".into()),
            ..RegistryOptions::default()
        };
        let (found, helper) = both.credentials("r").unwrap();
        assert_eq!(found, Some(Credentials::new("me", "pw")));
        assert_eq!(helper, None);
        assert!(!format!("{both:?}").contains("pw\""), "{both:?}");
    }

    #[test]
    fn image_refs_name_the_tag_and_the_digest() {
        let pushed = Pushed {
            reference: OciReference::parse("oci://localhost:5000/a/b:v1").unwrap(),
            digest: format!("sha256:{}", "0".repeat(64)),
        };
        assert_eq!(
            pushed.image_ref(),
            format!("localhost:5000/a/b:v1@sha256:{}", "0".repeat(64))
        );
    }

    #[test]
    fn a_registry_that_never_answers_is_a_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let options = RegistryOptions {
            plain_http: true,
            timeout: Some(Duration::from_millis(300)),
            ..RegistryOptions::default()
        };
        let reference = OciReference::parse(&format!("oci://127.0.0.1:{port}/a/b:v1")).unwrap();
        let err = crate::block_on(pull(&options, &reference)).unwrap_err();
        assert_eq!(err.code(), Code::Timeout, "{err}");
        drop(listener);
        // Nobody listening at all: unavailable.
        let err = crate::block_on(pull(&options, &reference)).unwrap_err();
        assert_eq!(err.code(), Code::ServiceUnavailable, "{err}");
    }
}

#[cfg(test)]
#[path = "oci/token_tests.rs"]
mod token_tests;

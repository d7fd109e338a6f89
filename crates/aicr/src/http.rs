//! The one HTTP client of the workspace: hyper with rustls (the ring
//! provider, the system's root certificates), the stack `kube` uses, on
//! tokio. Every download has a total deadline and a size cap, and its
//! failure keeps its cause: a deadline is TIMEOUT, an unreachable server
//! or a non-200 status SERVICE_UNAVAILABLE, a body over the cap
//! INVALID_REQUEST. The OCI registry client ([`crate::oci`]) sends its
//! requests through the same [`HttpClient`].

use std::time::Duration;

use aicr_core::{Code, Error, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Total time a download may take (the reference's 30 s).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// `User-Agent` of every request (the reference's).
const USER_AGENT: &str = "AICR-Serializer/1.0";

/// Downloads `url` within [`TIMEOUT`], refusing a body over `limit` bytes.
pub async fn get(url: &str, limit: u64) -> Result<Vec<u8>> {
    get_within(url, limit, TIMEOUT).await
}

/// [`get`] with an explicit deadline.
pub async fn get_within(url: &str, limit: u64, deadline: Duration) -> Result<Vec<u8>> {
    let shown = aicr_core::error::escape(url);
    match tokio::time::timeout(deadline, fetch(url, &shown, limit)).await {
        Ok(result) => result,
        Err(_) => Err(Error::new(
            Code::Timeout,
            format!(
                "GET {shown}: no complete answer within {} s",
                deadline.as_secs_f32()
            ),
        )),
    }
}

async fn fetch(url: &str, shown: &str, limit: u64) -> Result<Vec<u8>> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| Error::invalid(format!("{shown} is not a valid URL")).with_source(e))?;
    let request = hyper::Request::get(uri)
        .body(Full::new(Bytes::new()))
        .map_err(|e| Error::invalid(format!("{shown} is not a valid URL")).with_source(e))?;
    let answer = HttpClient::new(Tls::Verify)?
        .send(request, limit, &format!("GET {shown}"))
        .await?;
    if answer.status != hyper::StatusCode::OK {
        return Err(Error::new(
            Code::ServiceUnavailable,
            format!("GET {shown}: the server answered {}", answer.status),
        ));
    }
    Ok(answer.body)
}

/// How server certificates are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tls {
    /// Against the system's roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured).
    Verify,
    /// Any certificate is accepted (`--insecure-tls`); the handshake's
    /// signatures are still checked, so the connection is encrypted, just
    /// not authenticated.
    AcceptAny,
}

/// An answer read whole: status, headers, body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: hyper::StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

/// The one HTTP client construction: hyper over hyper-rustls (ring),
/// `http://` and `https://` both allowed, HTTP/1.1.
#[derive(Clone)]
pub(crate) struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    /// A client checking certificates as `tls` says.
    pub(crate) fn new(tls: Tls) -> Result<Self> {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match tls {
            Tls::Verify => builder.with_native_roots().map_err(|e| {
                Error::new(
                    Code::ServiceUnavailable,
                    "no TLS root certificates on this machine",
                )
                .with_source(e)
            })?,
            Tls::AcceptAny => builder.with_tls_config(accept_any_certificate()?),
        };
        let https = builder.https_or_http().enable_http1().build();
        Ok(HttpClient {
            inner: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Sends `request` (with our `User-Agent`) and reads the answer's body,
    /// refusing one over `limit` bytes. `what` names the request in errors
    /// (`GET https://...`); it must not hold credentials.
    pub(crate) async fn send(
        &self,
        mut request: hyper::Request<Full<Bytes>>,
        limit: u64,
        what: &str,
    ) -> Result<Answer> {
        let head = request.method() == hyper::Method::HEAD;
        request.headers_mut().insert(
            hyper::header::USER_AGENT,
            hyper::header::HeaderValue::from_static(USER_AGENT),
        );
        let response = self.inner.request(request).await.map_err(|e| {
            Error::new(
                Code::ServiceUnavailable,
                format!("{what}: the server could not be reached"),
            )
            .with_source(e)
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let too_large = || crate::io::too_large(&format!("the body of {what}"), limit);
        // A HEAD answer's Content-Length is the size of what a GET would
        // return (a registry's blob size); there is no body to cap.
        if let Some(length) = headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            && length > limit
            && !head
        {
            return Err(too_large());
        }
        let cap = usize::try_from(limit).unwrap_or(usize::MAX);
        let body = Limited::new(response.into_body(), cap)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    Error::new(
                        Code::ServiceUnavailable,
                        format!("{what}: the connection broke while reading the body"),
                    )
                    .with_source(ErrorText(e.to_string()))
                }
            })?;
        Ok(Answer {
            status,
            headers,
            body: body.to_bytes().to_vec(),
        })
    }
}

/// A rustls config that accepts any server certificate (ring only).
fn accept_any_certificate() -> Result<rustls::ClientConfig> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal("configuring TLS").with_source(e))?
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    Ok(config)
}

/// `--insecure-tls`: the certificate chain and name are not checked; the
/// handshake signatures are, with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A boxed error from the body stream, kept as text: it is not `Sync`.
#[derive(Debug)]
struct ErrorText(String);

impl std::fmt::Display for ErrorText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ErrorText {}

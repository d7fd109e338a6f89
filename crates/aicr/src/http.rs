//! The one HTTP client of the workspace: hyper with rustls (the ring
//! provider, the system's root certificates), the stack `kube` uses, on
//! tokio. Every download has a total deadline and a size cap, and its
//! failure keeps its cause: a deadline is TIMEOUT, an unreachable server
//! or a non-200 status SERVICE_UNAVAILABLE, a body over the cap
//! INVALID_REQUEST.

use std::time::Duration;

use aicr_core::{Code, Error, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
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
    let unavailable =
        |what: &str| Error::new(Code::ServiceUnavailable, format!("GET {shown}: {what}"));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| unavailable("no TLS root certificates on this machine").with_source(e))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let request = hyper::Request::get(uri)
        .header(hyper::header::USER_AGENT, USER_AGENT)
        .body(Empty::new())
        .map_err(|e| Error::invalid(format!("{shown} is not a valid URL")).with_source(e))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| unavailable("the server could not be reached").with_source(e))?;
    let status = response.status();
    if status != hyper::StatusCode::OK {
        return Err(unavailable(&format!("the server answered {status}")));
    }
    let too_large = || crate::io::too_large(&format!("the body of {shown}"), limit);
    if let Some(length) = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && length > limit
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
                    format!("GET {shown}: the connection broke while reading the body"),
                )
                .with_source(ErrorText(e.to_string()))
            }
        })?;
    Ok(body.to_bytes().to_vec())
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

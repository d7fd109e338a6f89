//! Error responses. A handler returns an [`ApiError`]; the envelope
//! middleware, which knows the request id, renders every one the same way:
//!
//! ```json
//! {"code":"INVALID_REQUEST","message":"Invalid recipe criteria",
//!  "details":{"error":"[INVALID_REQUEST] invalid service type: windows"},
//!  "requestId":"…","timestamp":"2026-…Z","retryable":false}
//! ```
//!
//! The status comes from the code (the one table in core). The cause is
//! sent as `details.error` only below 500; a server error's cause is
//! logged, never sent.

use aicr::{Code, Error};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// An error a handler answers with (boxed: it travels in every `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<Parts>);

#[derive(Debug, Clone)]
pub struct Parts {
    pub code: Code,
    /// What failed, in the API's words ("Invalid recipe criteria").
    pub message: String,
    pub details: Map<String, Value>,
    /// The library error behind it, if any.
    pub cause: Option<Error>,
    /// Set explicitly where the code's status is not the one (413).
    pub status: Option<StatusCode>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError(Box::new(Parts {
            code,
            message: message.into(),
            details: Map::new(),
            cause: None,
            status: None,
            headers: Vec::new(),
        }))
    }

    /// `message` for a library error, keeping its code.
    pub fn from_error(message: impl Into<String>, cause: Error) -> Self {
        let mut e = ApiError::new(cause.code(), message);
        e.cause = Some(cause);
        e
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_string(), value.into());
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        })
    }

    /// The response: the status, the JSON body with the request's id and
    /// the time, and the error's own headers.
    pub fn render(&self, request_id: &str) -> Response {
        let mut details = self.details.clone();
        if let Some(cause) = &self.cause
            && self.status().as_u16() < 500
        {
            details.insert("error".into(), Value::String(cause.to_string()));
        }
        let body = ErrorBody {
            code: self.code.as_str(),
            message: &self.message,
            details,
            request_id,
            timestamp: crate::time::now_rfc3339(),
            retryable: self.code.retryable(),
        };
        let mut response = crate::handlers::json_response(self.status(), &body);
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}

/// The body of every error response; the OpenAPI document's `Error`
/// schema is derived from it, so the two cannot drift apart.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Error, description = "The body of every error response.")]
pub struct ErrorBody<'a> {
    /// The stable code; the status follows from it.
    #[schema(schema_with = codes)]
    code: &'static str,
    /// What failed, in the API's words.
    message: &'a str,
    /// Context: the cause below 500, limits, allowed values.
    #[serde(skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    details: Map<String, Value>,
    /// `X-Request-Id` of the response.
    request_id: &'a str,
    #[schema(format = DateTime)]
    timestamp: String,
    /// Whether the same request may succeed later.
    retryable: bool,
}

/// The schema of `code`: every code there is. Listed by hand, as `Code`
/// offers no list; its strings come from `Code::as_str`.
fn codes() -> Object {
    let all = [
        Code::InvalidRequest,
        Code::MethodNotAllowed,
        Code::Conflict,
        Code::NotFound,
        Code::Unauthorized,
        Code::Timeout,
        Code::ServiceUnavailable,
        Code::RateLimitExceeded,
        Code::Internal,
    ];
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all.map(Code::as_str)))
        .build()
}

impl std::ops::Deref for ApiError {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut Parts {
        &mut self.0
    }
}

impl IntoResponse for ApiError {
    /// A placeholder that carries the error to the layer that renders it
    /// (the envelope, which knows the request id, or `render_bare` on the
    /// probes).
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

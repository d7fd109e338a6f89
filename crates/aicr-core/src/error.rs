//! The one error type of AICR, with the reference's stable codes and the
//! single table that maps a code to a CLI exit status and an HTTP status.

use std::fmt;
use std::sync::Arc;

/// Stable error codes shared by the CLI, the server and embedders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// Malformed or invalid input.
    InvalidRequest,
    /// Wrong HTTP verb.
    MethodNotAllowed,
    /// Well-formed input that conflicts with state.
    Conflict,
    /// Missing resource or selector path.
    NotFound,
    /// Authentication or signature failure.
    Unauthorized,
    /// Deadline exceeded.
    Timeout,
    /// Transport or upstream unavailable.
    ServiceUnavailable,
    /// Token bucket empty.
    RateLimitExceeded,
    /// Unexpected failure.
    Internal,
}

impl Code {
    /// The code as printed: `INVALID_REQUEST`, `NOT_FOUND`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "INVALID_REQUEST",
            Code::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Code::Conflict => "CONFLICT",
            Code::NotFound => "NOT_FOUND",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Timeout => "TIMEOUT",
            Code::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Code::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            Code::Internal => "INTERNAL",
        }
    }

    /// Process exit status for this code (the reference's table).
    pub fn exit_status(self) -> i32 {
        match self {
            Code::InvalidRequest | Code::MethodNotAllowed | Code::Conflict => 2,
            Code::NotFound => 3,
            Code::Unauthorized => 4,
            Code::Timeout => 5,
            Code::ServiceUnavailable => 6,
            Code::RateLimitExceeded => 7,
            Code::Internal => 8,
        }
    }

    /// HTTP status for this code (the reference's table).
    pub fn http_status(self) -> u16 {
        match self {
            Code::InvalidRequest => 400,
            Code::MethodNotAllowed => 405,
            Code::Conflict => 409,
            Code::NotFound => 404,
            Code::Unauthorized => 401,
            Code::Timeout => 504,
            Code::ServiceUnavailable => 503,
            Code::RateLimitExceeded => 429,
            Code::Internal => 500,
        }
    }

    /// Whether a client may retry a request that failed with this code.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Code::Timeout | Code::ServiceUnavailable | Code::RateLimitExceeded | Code::Internal
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A structured error: a code, a message, and an optional source.
///
/// It renders as `[CODE] message: cause: cause ...`: the outermost code
/// decides the exit and HTTP status (as in the reference) and is the only
/// code printed; the messages of the source chain follow it. The source
/// chain is also available through [`std::error::Error::source`].
#[derive(Debug, Clone)]
pub struct Error {
    code: Code,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result alias for AICR operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// Shorthand for [`Code::InvalidRequest`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(Code::InvalidRequest, message)
    }

    /// Shorthand for [`Code::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(Code::NotFound, message)
    }

    /// Shorthand for [`Code::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Code::Internal, message)
    }

    /// Wraps `self` as the source of a new outer error.
    pub fn wrap(self, code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            source: Some(Arc::new(self)),
        }
    }

    /// Adds context to the message while keeping the code.
    pub fn context(self, message: impl Into<String>) -> Self {
        let code = self.code;
        self.wrap(code, message)
    }

    /// Attaches a lower-level error (I/O, HTTP, parser) as the source.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The outermost code: the one that decides exit and HTTP status.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The outermost message, without its sources.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message followed by the messages of the whole source chain,
    /// without any code: what a user reads after `[CODE] `.
    pub fn detail(&self) -> String {
        let mut out = self.message.clone();
        let mut next = std::error::Error::source(self);
        while let Some(source) = next {
            let text = match source.downcast_ref::<Error>() {
                Some(ours) => ours.message.clone(),
                None => source.to_string(),
            };
            if !text.is_empty() && !out.ends_with(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            next = source.source();
        }
        out
    }

    /// Process exit status for this error.
    pub fn exit_status(&self) -> i32 {
        self.code.exit_status()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.detail())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Escapes control characters in user input echoed in a message, so a
/// name holding a newline or an escape sequence cannot forge output lines.
pub fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_code_decides_exit_status() {
        let err = Error::not_found("missing").wrap(Code::Internal, "loading snapshot");
        assert_eq!(err.exit_status(), 8);
        assert_eq!(err.to_string(), "[INTERNAL] loading snapshot: missing");
    }

    #[test]
    fn source_chain_is_exposed_and_no_code_nests_in_the_text() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err = Error::invalid("reading a.yaml")
            .with_source(io)
            .context("loading catalog");
        let inner = std::error::Error::source(&err).expect("a source");
        let inner = inner.downcast_ref::<Error>().expect("our error");
        assert_eq!(inner.message(), "reading a.yaml");
        assert!(std::error::Error::source(inner).is_some());
        assert_eq!(
            err.to_string(),
            "[INVALID_REQUEST] loading catalog: reading a.yaml: denied"
        );
    }

    #[test]
    fn escape_makes_control_characters_visible() {
        assert_eq!(escape("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(escape("plain-name"), "plain-name");
    }

    #[test]
    fn table_matches_reference() {
        let table = [
            (Code::InvalidRequest, 2, 400),
            (Code::MethodNotAllowed, 2, 405),
            (Code::Conflict, 2, 409),
            (Code::NotFound, 3, 404),
            (Code::Unauthorized, 4, 401),
            (Code::Timeout, 5, 504),
            (Code::ServiceUnavailable, 6, 503),
            (Code::RateLimitExceeded, 7, 429),
            (Code::Internal, 8, 500),
        ];
        for (code, exit, http) in table {
            assert_eq!(code.exit_status(), exit, "{code}");
            assert_eq!(code.http_status(), http, "{code}");
        }
    }
}

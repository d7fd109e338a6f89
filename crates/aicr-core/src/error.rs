//! The one error type of AICR, with the reference's stable codes and the
//! single table that maps a code to a CLI exit status and an HTTP status.

use std::fmt;

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

/// A structured error: a code, a message, and an optional cause.
///
/// It renders as `[CODE] message` or `[CODE] message: cause`. The outermost
/// code decides the exit and HTTP status, as in the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
    cause: Option<Box<Error>>,
}

/// Result alias for AICR operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            cause: None,
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

    /// Wraps `self` as the cause of a new outer error.
    pub fn wrap(self, code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            cause: Some(Box::new(self)),
        }
    }

    /// Adds context to the message while keeping the code.
    pub fn context(self, message: impl Into<String>) -> Self {
        let code = self.code;
        self.wrap(code, message)
    }

    /// The outermost code: the one that decides exit and HTTP status.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The outermost message, without the cause.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The wrapped cause, if any.
    pub fn cause(&self) -> Option<&Error> {
        self.cause.as_deref()
    }

    /// Process exit status for this error.
    pub fn exit_status(&self) -> i32 {
        self.code.exit_status()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_code_decides_exit_status() {
        let err = Error::not_found("missing").wrap(Code::Internal, "loading snapshot");
        assert_eq!(err.exit_status(), 8);
        assert_eq!(
            err.to_string(),
            "[INTERNAL] loading snapshot: [NOT_FOUND] missing"
        );
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

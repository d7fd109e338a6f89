//! Wall-clock timestamps for response bodies (`timestamp`, RFC 3339 in UTC
//! with nanoseconds, as the reference). They describe the response, not an
//! artifact, so reading the clock here does not touch determinism.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `2026-01-27T12:00:00.123456789Z`.
#[allow(clippy::disallowed_methods)] // a response timestamp, never an artifact
pub fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    aicr::rfc3339(since.as_secs(), Some(since.subsec_nanos()))
}

/// Unix seconds, for `X-RateLimit-Reset`.
#[allow(clippy::disallowed_methods)] // a response header, never an artifact
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

//! Registry credentials and challenges: where a user name and password
//! come from (flags, else the Docker config file), and what a registry's
//! `WWW-Authenticate` challenge asks for.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use aicr_core::{Error, Result, error::escape};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A user name and password. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    password: String,
}

impl Credentials {
    /// Credentials from a user name and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The `Authorization` value of HTTP basic authentication.
    pub(crate) fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!("Basic {}", STANDARD.encode(pair))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What the Docker config file says about one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DockerConfig {
    /// An `auths.<host>.auth` entry.
    Found(Credentials),
    /// No entry, but a credential helper (`credsStore`/`credHelpers`) that
    /// we do not run; named in the error if the registry asks for a login.
    Helper(String),
    /// Nothing for this registry (or no file).
    Nothing,
}

/// Biggest Docker config we read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads `path` (a Docker `config.json`) for `registry`. A missing file is
/// [`DockerConfig::Nothing`]; a file that is not JSON, or an `auth` that
/// is not base64 `user:password`, is INVALID_REQUEST naming the file, never
/// its contents.
pub(crate) fn docker_config(path: &Path, registry: &str) -> Result<DockerConfig> {
    let shown = escape(&path.display().to_string());
    let bytes = match crate::io::read_file(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.code() == aicr_core::Code::NotFound => return Ok(DockerConfig::Nothing),
        Err(e) => return Err(e),
    };
    let config: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| Error::invalid(format!("Docker config {shown} is not valid JSON")))?;
    let wanted = keys_for(registry);
    if let Some(auths) = config.get("auths").and_then(|a| a.as_object()) {
        for (key, entry) in auths {
            if !wanted.contains(&host_of(key)) {
                continue;
            }
            if let Some(auth) = entry.get("auth").and_then(|a| a.as_str())
                && !auth.is_empty()
            {
                return decode_auth(auth).map(DockerConfig::Found).ok_or_else(|| {
                    Error::invalid(format!(
                        "Docker config {shown}: the auth entry for {} is not base64 of user:password",
                        escape(registry)
                    ))
                });
            }
        }
    }
    let helper = config
        .get("credHelpers")
        .and_then(|h| h.as_object())
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| wanted.contains(&host_of(k)))
                .and_then(|(_, v)| v.as_str())
        })
        .or_else(|| config.get("credsStore").and_then(|s| s.as_str()))
        .filter(|s| !s.is_empty());
    Ok(match helper {
        Some(name) => DockerConfig::Helper(name.to_string()),
        None => DockerConfig::Nothing,
    })
}

/// The config keys that stand for `registry` (Docker Hub has its legacy
/// index names).
fn keys_for(registry: &str) -> Vec<&str> {
    if registry == "docker.io" {
        vec!["docker.io", "index.docker.io", "registry-1.docker.io"]
    } else {
        vec![registry]
    }
}

/// `https://host:port/v1/` → `host:port`: config keys may carry a scheme
/// and a path.
fn host_of(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn decode_auth(auth: &str) -> Option<Credentials> {
    let bytes = STANDARD.decode(auth.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials::new(user, password))
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// HTTP basic authentication.
    Basic,
    /// The token flow: a token from `realm` for `service`.
    Bearer {
        /// Token endpoint URL.
        realm: String,
        /// `service` parameter, if the registry named one.
        service: Option<String>,
    },
}

/// Parses the first challenge of a `WWW-Authenticate` header (`Basic
/// realm="..."` or `Bearer realm="...",service="...",scope="..."`). The
/// scope is not taken from it: we ask for the scope the operation needs.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    Some(Challenge::Bearer {
        realm: params.get("realm")?.clone(),
        service: params.get("service").cloned(),
    })
}

/// `k="v", k2=v2` (quoted values may hold commas and `\"`).
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    params
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
pub(crate) fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests write their fixtures directly
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_with_quoted_commas() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into())
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    #[test]
    fn docker_config_auth_is_found_by_host_and_helpers_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = STANDARD.encode("me:s3cret:with:colons");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"https://reg.example:5000/v1/":{{"auth":"{auth}"}},"other.io":{{}}}},"credHelpers":{{"gcr.io":"gcloud"}}}}"#
            ),
        )
        .unwrap();
        let found = docker_config(&path, "reg.example:5000").unwrap();
        assert_eq!(
            found,
            DockerConfig::Found(Credentials::new("me", "s3cret:with:colons"))
        );
        assert!(!format!("{found:?}").contains("s3cret"));
        assert_eq!(
            docker_config(&path, "gcr.io").unwrap(),
            DockerConfig::Helper("gcloud".into())
        );
        assert_eq!(
            docker_config(&path, "other.io").unwrap(),
            DockerConfig::Nothing
        );
        let missing = dir.path().join("none.json");
        assert_eq!(docker_config(&missing, "x").unwrap(), DockerConfig::Nothing);
        std::fs::write(&path, r#"{"auths":{"x":{"auth":"!!"}}}"#).unwrap();
        let err = docker_config(&path, "x").unwrap_err();
        assert!(!err.to_string().contains("!!"), "{err}");
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            query_escape("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}

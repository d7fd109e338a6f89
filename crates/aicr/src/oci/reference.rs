//! `oci://registry[:port]/repository[:tag|@digest]`, parsed once.

use std::fmt;

use aicr_core::{Error, Result, error::escape};

/// Docker Hub's name in references and its API host.
const DOCKER_HUB: &str = "docker.io";
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed OCI reference. A name without a registry is normalised as the
/// reference (Docker's rules) does it: `bundle` is `docker.io/library/bundle`,
/// `team/bundle` is `docker.io/team/bundle`; a first part is a registry
/// when it has a `.` or `:` or is `localhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    /// Registry host, with its port if one was given.
    pub registry: String,
    /// Repository path (lowercase, `/`-separated).
    pub repository: String,
    /// Tag, if given.
    pub tag: Option<String>,
    /// `sha256:<hex>` digest, if given.
    pub digest: Option<String>,
}

impl OciReference {
    /// Parses a reference with or without the `oci://` scheme.
    pub fn parse(text: &str) -> Result<Self> {
        let whole = text.trim();
        let bad =
            |why: &str| Error::invalid(format!("invalid OCI reference {}: {why}", escape(whole)));
        let rest = whole.strip_prefix("oci://").unwrap_or(whole);
        if rest.contains("://") {
            return Err(bad("only the oci:// scheme is accepted"));
        }
        let (rest, digest) = match rest.split_once('@') {
            Some((name, digest)) => {
                if !is_sha256_digest(digest) {
                    return Err(bad("a digest must be sha256: and 64 lowercase hex digits"));
                }
                (name, Some(digest.to_string()))
            }
            None => (rest, None),
        };
        // A tag follows the last `:` after the last `/` (a `:` before it
        // is the registry's port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return Err(bad(
                "a tag is 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
            ));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), path.to_string())
            }
            Some(_) => (DOCKER_HUB.to_string(), name.to_string()),
            None => (DOCKER_HUB.to_string(), format!("library/{name}")),
        };
        if !is_registry_host(&registry) {
            return Err(bad(
                "the registry must be a host name with an optional port",
            ));
        }
        if !is_repository(&repository) {
            return Err(bad(
                "the repository must be lowercase letters and digits, separated by `.`, `_`, `-` or `/`",
            ));
        }
        Ok(OciReference {
            registry,
            repository,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The reference with `tag` when it names neither a tag nor a digest
    /// (the CLI's version, as in the reference).
    pub fn with_default_tag(mut self, tag: &str) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(tag.to_string());
        }
        self
    }

    /// `registry/repository`: the Argo CD repo URL the reference derives.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What a manifest request names: the digest if given, else the tag.
    pub(crate) fn target(&self) -> Option<&str> {
        self.digest.as_deref().or(self.tag.as_deref())
    }

    /// The host the registry API answers on.
    pub(crate) fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for OciReference {
    /// `oci://registry/repository[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// `sha256:` and 64 lowercase hex digits (the only algorithm we check).
pub(crate) fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    tag.len() <= 128
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Host labels of letters, digits and inner `-`, dot-separated, then an
/// optional numeric port (the reference's pattern).
fn is_registry_host(registry: &str) -> bool {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    host.split('.').all(label_ok)
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$` (the
/// reference's pattern).
fn is_repository(repository: &str) -> bool {
    repository.split('/').all(|part| {
        !part.is_empty()
            && part.split(['.', '_', '-']).all(|run| {
                !run.is_empty()
                    && run
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> OciReference {
        OciReference::parse(text).unwrap()
    }

    #[test]
    fn a_registry_port_is_not_a_tag() {
        let r = parse("oci://localhost:5000/team/bundle:v1");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "team/bundle");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        let r = parse("oci://localhost:5000/bundle");
        assert_eq!((r.registry.as_str(), r.tag), ("localhost:5000", None));
    }

    #[test]
    fn a_missing_tag_becomes_the_default_but_a_digest_stays() {
        let r = parse("oci://ghcr.io/nvidia/bundle").with_default_tag("v0.1.0");
        assert_eq!(r.to_string(), "oci://ghcr.io/nvidia/bundle:v0.1.0");
        let digest = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("oci://ghcr.io/x/y@{digest}")).with_default_tag("v0.1.0");
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some(digest.as_str())));
        let r = parse(&format!("ghcr.io/x/y:t@{digest}"));
        assert_eq!(r.target(), Some(digest.as_str()));
    }

    #[test]
    fn names_without_a_registry_are_docker_hub_names() {
        let r = parse("oci://bundle:v1");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/bundle")
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = parse("team/bundle");
        assert_eq!(r.name(), "docker.io/team/bundle");
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "oci://",
            "oci://ghcr.io/",
            "oci://ghcr.io/Upper/case",
            "oci://ghcr.io/a//b",
            "oci://ghcr.io/a/b:",
            "oci://ghcr.io/a/b:-tag",
            "oci://ghcr.io/a/b@sha256:abc",
            "oci://ghcr.io/a/b@md5:0123",
            "oci://-bad.io/a/b",
            "oci://host:port/a",
            "https://ghcr.io/a/b",
            "oci://ghcr.io/a b/c",
            "oci://ghcr.io/a/b:t\tx",
        ] {
            let err = OciReference::parse(bad).unwrap_err();
            assert_eq!(err.code(), aicr_core::Code::InvalidRequest, "{bad}");
        }
    }
}

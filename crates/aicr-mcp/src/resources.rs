//! The resources: the catalog's documents by path, as
//! `aicr://catalog/<path>` (overlays, mixins, the registry, values files,
//! manifests, validators).

use aicr::{Client, Error, Result};
use rmcp::model::{Resource, ResourceContents, ResourceTemplate};

/// The URI prefix of a catalog document.
pub const PREFIX: &str = "aicr://catalog/";

/// Every catalog document, sorted by path.
pub fn list(client: &Client) -> Vec<Resource> {
    client
        .catalog_files()
        .into_iter()
        .map(|path| {
            Resource::new(format!("{PREFIX}{path}"), path.clone()).with_mime_type(mime(&path))
        })
        .collect()
}

/// The one template: any catalog path, for clients that address
/// documents without listing them first.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{PREFIX}{{path}}"), "catalog document")
            .with_description("A document of the recipe catalog by its relative path, e.g. overlays/base.yaml or registry.yaml"),
    ]
}

/// The document at `uri`, as text. A URI outside the catalog is
/// INVALID_REQUEST; a path that is not a catalog file is NOT_FOUND.
pub fn read(client: &Client, uri: &str) -> Result<ResourceContents> {
    let path = uri.strip_prefix(PREFIX).ok_or_else(|| {
        Error::invalid(format!(
            "{:?} is not a catalog document: URIs start with {PREFIX}",
            aicr::escape(uri)
        ))
    })?;
    let bytes = client.catalog_file(path)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", aicr::escape(path))))?;
    Ok(ResourceContents::text(text, uri).with_mime_type(mime(path)))
}

fn mime(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("yaml" | "yml") => "application/yaml",
        Some("json") => "application/json",
        Some("md") => "text/markdown",
        _ => "text/plain",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_document_reads_back() {
        let client = Client::embedded().unwrap();
        let listed = list(&client);
        assert!(
            listed
                .iter()
                .any(|r| r.uri == "aicr://catalog/registry.yaml")
        );
        for resource in listed.iter().take(20) {
            read(&client, &resource.uri).unwrap();
        }
    }

    #[test]
    fn uris_outside_the_catalog_are_refused() {
        let client = Client::embedded().unwrap();
        let err = read(&client, "file:///etc/passwd").unwrap_err();
        assert_eq!(err.code(), aicr::Code::InvalidRequest);
        let err = read(&client, "aicr://catalog/../Cargo.toml").unwrap_err();
        assert_eq!(err.code(), aicr::Code::InvalidRequest);
        let err = read(&client, "aicr://catalog/none.yaml").unwrap_err();
        assert_eq!(err.code(), aicr::Code::NotFound);
    }
}

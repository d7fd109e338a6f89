//! Typed document headers: `kind` and `apiVersion` fields that only parse
//! when they hold the value their document requires, so a document that
//! parsed is of the right kind and no code checks it again.
//!
//! ```
//! use aicr_core::model::RecipeMixin;
//!
//! let ok = "kind: RecipeMixin\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata: {name: m}\nspec: {}\n";
//! assert!(aicr_core::yaml::parse_str::<RecipeMixin>(ok, "m.yaml").is_ok());
//! let bad = ok.replace("RecipeMixin", "RecipeMixn");
//! let err = aicr_core::yaml::parse_str::<RecipeMixin>(&bad, "m.yaml").unwrap_err();
//! assert!(err.message().contains(r#"kind is "RecipeMixn", expected "RecipeMixin""#));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// API version of every AICR document.
pub const API_VERSION: &str = "aicr.nvidia.com/v1alpha1";

/// API version of the validator catalog.
pub const VALIDATOR_API_VERSION: &str = "validator.nvidia.com/v1alpha1";

/// A document type with a fixed header.
pub trait Document {
    /// The only accepted `kind`.
    const KIND: &'static str;
    /// The only accepted `apiVersion`.
    const API_VERSION: &'static str = API_VERSION;
}

/// Which header field a [`Field`] holds.
pub trait FieldName {
    /// The YAML key.
    const KEY: &'static str;
    /// The required value for document `D`.
    fn expected<D: Document>() -> &'static str;
}

/// Marker for `kind`.
#[derive(Debug)]
pub enum KindKey {}

/// Marker for `apiVersion`.
#[derive(Debug)]
pub enum ApiKey {}

impl FieldName for KindKey {
    const KEY: &'static str = "kind";
    fn expected<D: Document>() -> &'static str {
        D::KIND
    }
}

impl FieldName for ApiKey {
    const KEY: &'static str = "apiVersion";
    fn expected<D: Document>() -> &'static str {
        D::API_VERSION
    }
}

/// A header field of document `D` that holds exactly its required value.
pub struct Field<D, F>(PhantomData<fn() -> (D, F)>);

/// `kind` of document `D`: parses only as `D::KIND`.
pub type Kind<D> = Field<D, KindKey>;

/// `apiVersion` of document `D`: parses only as `D::API_VERSION`.
pub type ApiVersion<D> = Field<D, ApiKey>;

impl<D: Document, F: FieldName> Field<D, F> {
    /// The field (there is only one value).
    pub const fn new() -> Self {
        Field(PhantomData)
    }

    /// The required text.
    pub fn as_str(&self) -> &'static str {
        F::expected::<D>()
    }

    /// Checks a header value read from a document: the message names what
    /// was found and what is required (`kind is "X", expected "Y"`).
    pub fn check(found: Option<&str>) -> Result<Self, String> {
        let want = F::expected::<D>();
        match found {
            Some(got) if got == want => Ok(Field::new()),
            Some(got) => Err(format!("{} is {got:?}, expected {want:?}", F::KEY)),
            None => Err(format!("{} is missing, expected {want:?}", F::KEY)),
        }
    }
}

impl<D: Document, F: FieldName> Default for Field<D, F> {
    fn default() -> Self {
        Field::new()
    }
}

impl<D, F> Clone for Field<D, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D, F> Copy for Field<D, F> {}

impl<D, F> PartialEq for Field<D, F> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<D, F> Eq for Field<D, F> {}

impl<D: Document, F: FieldName> fmt::Debug for Field<D, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl<D: Document, F: FieldName> fmt::Display for Field<D, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<D: Document, F: FieldName> Serialize for Field<D, F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de, D: Document, F: FieldName> Deserialize<'de> for Field<D, F> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        let got = Cow::<'de, str>::deserialize(d)?;
        Self::check(Some(&got)).map_err(serde::de::Error::custom)
    }
}

impl<D: Document, F: FieldName> JsonSchema for Field<D, F> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("{}{}", F::KEY, F::expected::<D>()))
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "const": F::expected::<D>() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Doc;
    impl Document for Doc {
        const KIND: &'static str = "Doc";
    }

    #[test]
    fn header_fields_accept_only_their_value() {
        assert!(Kind::<Doc>::check(Some("Doc")).is_ok());
        assert_eq!(
            Kind::<Doc>::check(Some("Dog")).unwrap_err(),
            r#"kind is "Dog", expected "Doc""#
        );
        assert_eq!(
            ApiVersion::<Doc>::check(None).unwrap_err(),
            r#"apiVersion is missing, expected "aicr.nvidia.com/v1alpha1""#
        );
        let json = serde_json::to_string(&Kind::<Doc>::new()).unwrap();
        assert_eq!(json, "\"Doc\"");
        assert!(serde_json::from_str::<Kind<Doc>>("\"Dog\"").is_err());
    }
}

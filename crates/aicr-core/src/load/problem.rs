//! A problem found while loading or linting a catalog.

use std::fmt;

/// One problem found in a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Catalog-relative path of the file (`overlays/eks/eks.yaml`); a file
    /// of a lower layer is named by its origin (`embedded:registry.yaml`).
    pub file: String,
    /// Dotted path of the field (`spec.componentRefs[2].valuesFile`); empty
    /// when the problem concerns the whole file.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The likely intended value, for a "did you mean" hint.
    pub suggestion: Option<String>,
}

impl Problem {
    pub(crate) fn new(file: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            file: file.to_string(),
            field: field.into(),
            message: message.into(),
            suggestion: None,
        }
    }

    pub(crate) fn suggest(mut self, suggestion: Option<impl Into<String>>) -> Self {
        self.suggestion = suggestion.map(Into::into);
        self
    }

    /// The problem without its file: `field: message (did you mean x?)`.
    pub fn detail(&self) -> String {
        let mut out = String::new();
        if !self.field.is_empty() {
            out.push_str(&self.field);
            out.push_str(": ");
        }
        out.push_str(&self.message);
        if let Some(s) = &self.suggestion {
            out.push_str(&format!(" (did you mean {s}?)"));
        }
        out
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.detail())
    }
}

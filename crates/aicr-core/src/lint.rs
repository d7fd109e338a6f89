//! Recipe lint: every problem in a catalog, not just the first. Each file
//! is parsed on its own (strict types, so a misspelt field is reported with
//! the parser's line), then the cross-file rules run over what parsed:
//! parents, cycles and depth, mixins, referenced files, duplicate criteria,
//! constraint paths, validator checks, dependencies and chart versions.
//!
//! ```
//! use aicr_core::{EmbeddedProvider, lint::lint};
//!
//! let report = lint(&EmbeddedProvider);
//! assert!(report.problems.is_empty(), "{:?}", report.problems);
//! ```

mod checks;
mod field_path;
mod parse;

use std::fmt;

use crate::provider::DataProvider;

/// One problem found in a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Catalog-relative path of the file (`overlays/eks/eks.yaml`).
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
    fn new(file: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            file: file.to_string(),
            field: field.into(),
            message: message.into(),
            suggestion: None,
        }
    }

    fn suggest(mut self, suggestion: Option<impl Into<String>>) -> Self {
        self.suggestion = suggestion.map(Into::into);
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean {s}?)")?;
        }
        Ok(())
    }
}

/// What [`lint`] found, and the size of the catalog it read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintReport {
    /// Every problem, grouped by file in path order.
    pub problems: Vec<Problem>,
    /// Overlays that parsed, `base` included.
    pub overlays: usize,
    /// Mixins that parsed.
    pub mixins: usize,
    /// Registry entries.
    pub components: usize,
}

impl LintReport {
    /// True when the catalog has no problems.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// `Ok` for a clean catalog, else INVALID_REQUEST counting the problems.
    pub fn into_result(self) -> crate::error::Result<()> {
        match self.problems.len() {
            0 => Ok(()),
            1 => Err(crate::error::Error::invalid("catalog has 1 problem")),
            n => Err(crate::error::Error::invalid(format!(
                "catalog has {n} problems"
            ))),
        }
    }
}

/// The report as `recipe lint` prints it: one problem a line, or a summary
/// line for a clean catalog.
impl fmt::Display for LintReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "{problem}")?;
        }
        if self.is_ok() {
            writeln!(
                f,
                "catalog OK: {} overlays, {} mixins, {} components",
                self.overlays, self.mixins, self.components
            )?;
        }
        Ok(())
    }
}

/// Lints the catalog `provider` serves (all layers of a layered provider).
pub fn lint(provider: &dyn DataProvider) -> LintReport {
    let mut problems = Vec::new();
    let parsed = parse::parse(provider, &mut problems);
    checks::run(&parsed, &mut problems);
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    problems.dedup();
    LintReport {
        overlays: parsed.overlays.len(),
        mixins: parsed.mixins.len(),
        components: parsed.registry.len(),
        problems,
    }
}

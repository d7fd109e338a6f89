//! Recipe lint: every problem in a catalog, not just the first. It is the
//! catalog loader ([`crate::load`]) in collecting mode (strict types, so a
//! misspelt field is reported with the parser's line; headers, names,
//! parents, cycles and depth) plus checks of its own over what parsed:
//! mixins, referenced files, duplicate criteria, constraint paths against
//! the measurement catalog, validator checks, dependencies and chart
//! versions.
//!
//! ```
//! use aicr_core::{EmbeddedProvider, lint::lint};
//!
//! let report = lint(&EmbeddedProvider);
//! assert!(report.problems.is_empty(), "{:?}", report.problems);
//! ```

mod checks;

use std::collections::BTreeSet;
use std::fmt;

use indexmap::IndexMap;

pub use crate::load::Problem;
use crate::load::{Loaded, Loader, Mode};
use crate::model::Validator;
use crate::provider::DataProvider;

/// What [`lint`] found, and the size of the catalog it read.
///
/// Its `Display` is the report `aicr recipe lint` prints: one problem per
/// line, then `catalog OK: N overlays, M mixins, K components` when there
/// are none.
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

/// What the loader read, plus what the cross-file checks need besides.
struct Parsed {
    loaded: Loaded,
    /// Validators by name; `None` when no layer has a validator catalog.
    validators: Option<IndexMap<String, Validator>>,
    validators_broken: bool,
    /// Every file of the catalog and every externally fetched path.
    files: BTreeSet<String>,
    external: BTreeSet<String>,
}

/// Lints the catalog `provider` serves (all layers of a layered provider):
/// every problem the loader finds, then the checks that relate documents
/// to each other and to the measurement catalog.
pub fn lint(provider: &dyn DataProvider) -> LintReport {
    let mut loader = Loader::new(provider, Mode::Collect);
    // In collect mode the loader records problems instead of failing.
    let loaded = loader.catalog().unwrap_or_default();
    let validators = loader.validators().unwrap_or_default();
    let external = loader.external_files().unwrap_or_default();
    let mut problems = std::mem::take(&mut loader.problems);
    let parsed = Parsed {
        loaded,
        validators: validators.catalog.map(|c| {
            c.validators
                .into_iter()
                .map(|v| (v.name.clone(), v))
                .collect()
        }),
        validators_broken: validators.broken,
        files: provider.files().into_iter().collect(),
        external: external.into_iter().map(|f| f.path).collect(),
    };
    checks::run(&parsed, &mut problems);
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    problems.dedup();
    LintReport {
        overlays: parsed.loaded.overlays.len(),
        mixins: parsed.loaded.mixins.len(),
        components: parsed.loaded.registry.len(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_prints_problems_or_the_ok_line() {
        let mut report = LintReport {
            overlays: 3,
            mixins: 2,
            components: 1,
            ..LintReport::default()
        };
        assert_eq!(
            report.to_string(),
            "catalog OK: 3 overlays, 2 mixins, 1 components\n"
        );
        report
            .problems
            .push(Problem::new("a.yaml", "spec.base", "bad"));
        report
            .problems
            .push(Problem::new("b.yaml", "", "worse").suggest(Some("x")));
        assert_eq!(
            report.to_string(),
            "a.yaml: spec.base: bad\nb.yaml: worse (did you mean x?)\n"
        );
    }
}

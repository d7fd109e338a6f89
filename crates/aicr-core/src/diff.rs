//! Drift between two snapshots (`aicr diff`): every reading added,
//! removed or changed, by `Type.subtype.key`. Only measurements are
//! compared; metadata, timestamps and the fingerprint are not.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::snapshot::{Reading, Snapshot};

/// How a reading changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only the target has it.
    Added,
    /// Only the baseline has it.
    Removed,
    /// Both have it, with different text.
    Modified,
}

/// How much a change matters; every change is informational today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeSeverity {
    /// For information.
    Info,
}

/// One changed reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// Always `info`.
    pub severity: ChangeSeverity,
    /// `Type.subtype.key`.
    pub path: String,
    /// The baseline's text; absent when the baseline lacks the reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The target's text; absent when the target lacks the reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Counts of changes by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DiffSummary {
    /// Readings only the target has.
    pub added: usize,
    /// Readings only the baseline has.
    pub removed: usize,
    /// Readings whose text differs.
    pub modified: usize,
    /// All changes.
    pub total: usize,
}

/// The result of comparing two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffReport {
    /// The baseline as the user named it.
    pub baseline_source: String,
    /// The target as the user named it.
    pub target_source: String,
    /// Changes sorted by path; empty when nothing drifted.
    pub changes: Vec<Change>,
    /// Counts.
    pub summary: DiffSummary,
}

/// Readings by type, subtype and key. A repeated type or subtype: the
/// last one wins, as in the reference.
type Index<'a> = BTreeMap<&'static str, BTreeMap<&'a str, &'a BTreeMap<String, Reading>>>;

fn index(snapshot: &Snapshot) -> Index<'_> {
    let mut out: Index<'_> = BTreeMap::new();
    for m in &snapshot.measurements {
        let subtypes = out.entry(m.kind.as_str()).or_default();
        subtypes.clear();
        for s in &m.subtypes {
            subtypes.insert(&s.name, &s.data);
        }
    }
    out
}

/// Compares `baseline` with `target`; the sources name them in the report.
pub fn diff(
    baseline: &Snapshot,
    target: &Snapshot,
    baseline_source: &str,
    target_source: &str,
) -> DiffReport {
    let (b, t) = (index(baseline), index(target));
    let empty = BTreeMap::new();
    let no_data = BTreeMap::new();
    let mut changes = Vec::new();
    for kind in b
        .keys()
        .chain(t.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let bs = b.get(kind).unwrap_or(&empty);
        let ts = t.get(kind).unwrap_or(&empty);
        for sub in bs
            .keys()
            .chain(ts.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let bd = bs.get(sub).copied().unwrap_or(&no_data);
            let td = ts.get(sub).copied().unwrap_or(&no_data);
            for key in bd
                .keys()
                .chain(td.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                let before = bd.get(key).map(Reading::to_string);
                let after = td.get(key).map(Reading::to_string);
                let kind_of_change = match (&before, &after) {
                    (None, Some(_)) => ChangeKind::Added,
                    (Some(_), None) => ChangeKind::Removed,
                    (Some(x), Some(y)) if x != y => ChangeKind::Modified,
                    _ => continue,
                };
                changes.push(Change {
                    kind: kind_of_change,
                    severity: ChangeSeverity::Info,
                    path: format!("{kind}.{sub}.{key}"),
                    baseline: before,
                    target: after,
                });
            }
        }
    }
    changes.sort_by(|x, y| x.path.cmp(&y.path));
    let count = |k| changes.iter().filter(|c| c.kind == k).count();
    let summary = DiffSummary {
        added: count(ChangeKind::Added),
        removed: count(ChangeKind::Removed),
        modified: count(ChangeKind::Modified),
        total: changes.len(),
    };
    DiffReport {
        baseline_source: baseline_source.to_string(),
        target_source: target_source.to_string(),
        changes,
        summary,
    }
}

impl DiffReport {
    /// Whether anything drifted.
    pub fn has_drift(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The report as the reference's table: `NO CHANGES`, or a header,
    /// aligned `KIND PATH BASELINE TARGET` rows and `DRIFT DETECTED`.
    pub fn render_table(&self) -> String {
        if self.changes.is_empty() {
            return "NO CHANGES\n".into();
        }
        let shown = |side: &Option<String>| match side.as_deref() {
            None => "-".to_string(),
            Some("") => "\"\"".to_string(),
            Some(text) => crate::error::escape(text),
        };
        let mut rows = vec![[
            "KIND".to_string(),
            "PATH".to_string(),
            "BASELINE".to_string(),
            "TARGET".to_string(),
        ]];
        for c in &self.changes {
            let kind = match c.kind {
                ChangeKind::Added => "ADDED",
                ChangeKind::Removed => "REMOVED",
                ChangeKind::Modified => "MODIFIED",
            };
            rows.push([
                kind.to_string(),
                crate::error::escape(&c.path),
                shown(&c.baseline),
                shown(&c.target),
            ]);
        }
        let mut widths = [0; 4];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let s = &self.summary;
        let mut out = format!(
            "CHANGES ({} added, {} removed, {} modified)\n",
            s.added, s.removed, s.modified
        );
        for row in &rows {
            let mut line = String::new();
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i == 3 {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  "));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str("\nDRIFT DETECTED\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(yaml: &str) -> Snapshot {
        let doc = format!(
            "kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata: {{timestamp: x}}\nmeasurements:\n{yaml}"
        );
        Snapshot::parse(doc.as_bytes(), "s.yaml").unwrap()
    }

    #[test]
    fn added_removed_modified_sorted_by_path() {
        let a = snap(
            "  - type: OS\n    subtypes:\n      - subtype: release\n        data: {ID: ubuntu, VERSION_ID: \"22.04\", GONE: x}\n  - type: K8s\n    subtypes:\n      - subtype: server\n        data: {version: v1.32.0}\n",
        );
        let b = snap(
            "  - type: OS\n    subtypes:\n      - subtype: release\n        data: {ID: ubuntu, VERSION_ID: \"24.04\", NEW: \"\"}\n  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu-count: 8}\n",
        );
        let r = diff(&a, &b, "a.yaml", "b.yaml");
        let got: Vec<_> = r
            .changes
            .iter()
            .map(|c| {
                (
                    c.kind,
                    c.path.as_str(),
                    c.baseline.as_deref(),
                    c.target.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (ChangeKind::Added, "GPU.smi.gpu-count", None, Some("8")),
                (
                    ChangeKind::Removed,
                    "K8s.server.version",
                    Some("v1.32.0"),
                    None
                ),
                (ChangeKind::Removed, "OS.release.GONE", Some("x"), None),
                (ChangeKind::Added, "OS.release.NEW", None, Some("")),
                (
                    ChangeKind::Modified,
                    "OS.release.VERSION_ID",
                    Some("22.04"),
                    Some("24.04")
                ),
            ]
        );
        assert_eq!(
            r.summary,
            DiffSummary {
                added: 2,
                removed: 2,
                modified: 1,
                total: 5
            }
        );
        let table = r.render_table();
        assert!(
            table.starts_with("CHANGES (2 added, 2 removed, 1 modified)\nKIND      PATH"),
            "{table}"
        );
        assert!(
            table.contains("ADDED     OS.release.NEW         -         \"\"\n"),
            "{table}"
        );
        assert!(table.ends_with("\nDRIFT DETECTED\n"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json["changes"][0],
            serde_json::json!({"kind": "added", "severity": "info", "path": "GPU.smi.gpu-count", "target": "8"})
        );
    }

    #[test]
    fn the_same_readings_are_no_drift_whatever_else_differs() {
        let a = snap(
            "  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu-count: 8}\n",
        );
        let mut b = a.clone();
        b.metadata.insert("timestamp".into(), "later".into());
        let r = diff(&a, &b, "a", "b");
        assert!(!r.has_drift());
        assert_eq!(r.render_table(), "NO CHANGES\n");
        assert_eq!(
            serde_json::to_value(&r).unwrap()["changes"],
            serde_json::json!([])
        );
    }

    #[test]
    fn a_repeated_type_is_the_last_one() {
        let a = snap(
            "  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu-count: 4}\n  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu-count: 8}\n",
        );
        let b = snap(
            "  - type: GPU\n    subtypes:\n      - subtype: smi\n        data: {gpu-count: 8}\n",
        );
        assert!(!diff(&a, &b, "a", "b").has_drift());
    }
}

//! Parsing the agent's flags (spec §5.2): pure functions, all failures
//! INVALID_REQUEST, checked before anything touches the cluster.

use std::collections::BTreeMap;

use aicr_core::criteria::Os;
use aicr_core::error::escape;
use aicr_core::{Code, Error, Result};
use k8s_openapi::api::core::v1::Toleration;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// `--node-selector k=v` flags: split at the first `=`, empty values
/// allowed, a repeated key keeps the last value.
pub fn parse_node_selectors(flags: &[String]) -> Result<BTreeMap<String, String>> {
    flags
        .iter()
        .map(|flag| {
            flag.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "invalid format {:?}, expected key=value",
                        escape(flag)
                    ))
                })
        })
        .collect()
}

/// The toleration list without flags: tolerate every taint.
pub fn default_tolerations() -> Vec<Toleration> {
    vec![Toleration {
        operator: Some("Exists".into()),
        ..Toleration::default()
    }]
}

/// `--toleration` flags: `*`, `key=value:Effect` (Equal) or `key:Effect`
/// (Exists); no flags means [`default_tolerations`].
pub fn parse_tolerations(flags: &[String]) -> Result<Vec<Toleration>> {
    if flags.is_empty() {
        return Ok(default_tolerations());
    }
    flags.iter().map(|flag| parse_toleration(flag)).collect()
}

fn parse_toleration(flag: &str) -> Result<Toleration> {
    if flag == "*" {
        return Ok(default_tolerations().remove(0));
    }
    let parts: Vec<&str> = flag.split(':').collect();
    let [left, effect] = parts.as_slice() else {
        return Err(Error::invalid(format!(
            "invalid format {:?}, expected key=value:effect or key:effect",
            escape(flag)
        )));
    };
    if !matches!(*effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        return Err(Error::invalid(format!(
            "invalid taint effect {:?}, expected NoSchedule, PreferNoSchedule, or NoExecute",
            escape(effect)
        ))
        .wrap(Code::InvalidRequest, "invalid taint effect"));
    }
    let (key, value) = left.split_once('=').unwrap_or((left, ""));
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(Toleration {
        key: non_empty(key),
        operator: Some(if value.is_empty() { "Exists" } else { "Equal" }.into()),
        value: non_empty(value),
        effect: Some(effect.to_string()),
        toleration_seconds: None,
    })
}

/// `--requests` / `--limits`: `name=quantity,...`, blanks skipped, names
/// unique, quantities in Kubernetes syntax and not negative. Empty input
/// is no override (an empty map).
pub fn parse_resource_list(spec: &str) -> Result<BTreeMap<String, Quantity>> {
    let mut list = BTreeMap::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let shown = escape(entry);
        let (name, quantity) = entry.split_once('=').ok_or_else(|| {
            Error::invalid(format!("entry {shown:?} is not in name=quantity form"))
        })?;
        let (name, quantity) = (name.trim(), quantity.trim());
        if name.is_empty() || quantity.is_empty() {
            return Err(Error::invalid(format!(
                "entry {shown:?} has empty name or quantity"
            )));
        }
        let negative = quantity_is_negative(quantity)
            .ok_or_else(|| Error::invalid(format!("entry {shown:?} has invalid quantity")))?;
        if negative {
            return Err(Error::invalid(format!(
                "entry {shown:?} has negative quantity"
            )));
        }
        if list
            .insert(name.to_string(), Quantity(quantity.to_string()))
            .is_some()
        {
            return Err(Error::invalid(format!("duplicate key {:?}", escape(name))));
        }
    }
    Ok(list)
}

/// Checks Kubernetes quantity syntax (`<sign><number><suffix>`, suffix a
/// binary SI, decimal SI or `e<int>` exponent); `Some(true)` when it is
/// below zero, `None` when it is not a quantity.
pub fn quantity_is_negative(text: &str) -> Option<bool> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_len);
    let digits = number.replace('.', "");
    if digits.is_empty() || number.matches('.').count() > 1 {
        return None;
    }
    let suffix_ok = matches!(
        suffix,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || suffix
        .strip_prefix(['e', 'E'])
        .map(|exp| exp.strip_prefix(['+', '-']).unwrap_or(exp))
        .is_some_and(|exp| !exp.is_empty() && exp.bytes().all(|b| b.is_ascii_digit()));
    suffix_ok.then(|| negative && digits.bytes().any(|b| b != b'0'))
}

/// `--os`: one of the recipe OS values (`al2`, `al2023` → `amazonlinux`,
/// case-insensitive); empty means not given.
pub fn parse_os(flag: &str) -> Result<Option<Os>> {
    if flag.trim().is_empty() {
        return Ok(None);
    }
    Os::parse(flag)
        .map(Some)
        .map_err(|e| e.wrap(Code::InvalidRequest, "invalid --os value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quantities_follow_kubernetes_syntax() {
        for ok in [
            "1", "500m", "1Gi", "0", "1.5", ".5", "1e3", "2E-2", "+1", "-0",
        ] {
            assert_eq!(quantity_is_negative(ok), Some(false), "{ok}");
        }
        assert_eq!(quantity_is_negative("-1"), Some(true));
        for bad in ["", "abc", "1GB", "1.2.3", "1e", "-", "Gi"] {
            assert_eq!(quantity_is_negative(bad), None, "{bad}");
        }
    }

    #[test]
    fn os_accepts_recipe_values_and_aliases() {
        assert_eq!(parse_os("").unwrap(), None);
        assert_eq!(parse_os("AL2023").unwrap(), Some(Os::AmazonLinux));
        assert_eq!(parse_os("talos").unwrap(), Some(Os::Talos));
        assert_eq!(parse_os("any").unwrap(), Some(Os::Any));
        assert_eq!(
            parse_os("windows").unwrap_err().code(),
            Code::InvalidRequest
        );
    }

    #[test]
    fn node_selector_needs_an_equals_sign() {
        let s = parse_node_selectors(&strings(&["a=1", "a=2", "b="])).unwrap();
        assert_eq!(s["a"], "2");
        assert_eq!(s["b"], "");
    }
}

//! Deployment order: Kahn's algorithm over `dependencyRefs` where the
//! smallest ready name is always emitted next, so the order is stable.

use std::collections::{BTreeSet, HashMap};

use crate::error::{Error, Result};

/// Orders `nodes` (name, dependencies) so every component follows its
/// dependencies. An unknown dependency or a cycle is INVALID_REQUEST.
pub fn deployment_order<'a>(
    nodes: impl IntoIterator<Item = (&'a str, &'a [String])>,
) -> Result<Vec<String>> {
    let nodes: Vec<(&str, &[String])> = nodes.into_iter().collect();
    let known: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect();
    let mut pending = vec![0usize; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, (name, deps)) in nodes.iter().enumerate() {
        for dep in deps.iter() {
            let Some(&d) = known.get(dep.as_str()) else {
                return Err(Error::invalid(format!(
                    "component {name:?} depends on {dep:?}, which is not in the recipe"
                )));
            };
            pending[i] += 1;
            dependents[d].push(i);
        }
    }
    let mut ready: BTreeSet<(&str, usize)> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| pending[*i] == 0)
        .map(|(i, (n, _))| (*n, i))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some((name, i)) = ready.pop_first() {
        order.push(name.to_string());
        for &next in &dependents[i] {
            pending[next] -= 1;
            if pending[next] == 0 {
                ready.insert((nodes[next].0, next));
            }
        }
    }
    if order.len() < nodes.len() {
        return Err(Error::invalid(format!(
            "circular dependency detected: {}",
            cycle(&nodes).join(" -> ")
        )));
    }
    Ok(order)
}

/// A cycle among `nodes`, which are known to have one, as names in
/// dependency direction ending where it began.
fn cycle(nodes: &[(&str, &[String])]) -> Vec<String> {
    let mut graph = petgraph::graph::DiGraph::<&str, ()>::new();
    let index: HashMap<&str, _> = nodes
        .iter()
        .map(|(n, _)| (*n, graph.add_node(*n)))
        .collect();
    for (name, deps) in nodes {
        for dep in deps.iter() {
            graph.add_edge(index[dep.as_str()], index[name], ());
        }
    }
    crate::graph::cycle_path(&graph, |n| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn smallest_ready_name_goes_first() {
        let a = deps(&["c"]);
        let none = deps(&[]);
        let order = deployment_order([
            ("a", a.as_slice()),
            ("b", none.as_slice()),
            ("c", none.as_slice()),
        ])
        .unwrap();
        assert_eq!(order, ["b", "c", "a"]);
    }

    #[test]
    fn cycles_and_unknown_dependencies_are_rejected() {
        let a = deps(&["b"]);
        let b = deps(&["a"]);
        let err = deployment_order([("a", a.as_slice()), ("b", b.as_slice())]).unwrap_err();
        let text = err.to_string();
        assert!(text.ends_with("detected: a -> b -> a"), "{text}");
        let x = deps(&["missing"]);
        assert!(deployment_order([("x", x.as_slice())]).is_err());
    }
}

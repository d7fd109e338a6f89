//! A recipe's deployment graph as a picture (`aicr recipe -t dot` and
//! `-t mermaid`): one node per component, an arrow from each dependency
//! to the component that needs it (the install direction), and the
//! components grouped in install *tiers*: tier 0 needs nothing, tier N
//! needs something in tier N-1 and nothing later. Components of one tier
//! can go in parallel. Each node also shows its place in
//! `deploymentOrder`, which is the sync wave the Argo CD deployers write
//! and the folder number of the Helm deployer.
//!
//! The graph, its topological sort and the DOT statements come from
//! `petgraph`; the tier grouping around them is ours. The output is a
//! pure function of the recipe: nodes in `deploymentOrder`, edges in
//! `dependencyRefs` order.

use std::collections::HashMap;
use std::fmt::{self, Write};

use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::error::{Error, Result};
use crate::recipe::RecipeResult;

/// A component as a node: its name, chart version and install position.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    name: String,
    version: String,
    /// Position in `deploymentOrder` (the sync wave).
    wave: usize,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // petgraph's DOT escaper turns '\n' into `\l`, a left-justified
        // line break, so each line of the label is one fact.
        writeln!(f, "{}", self.name)?;
        if !self.version.is_empty() {
            writeln!(f, "{}", self.version)?;
        }
        writeln!(f, "wave {}", self.wave)
    }
}

/// An edge: the target needs the source installed first. Unlabelled in
/// the drawings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Needs;

impl fmt::Display for Needs {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

/// The components of a recipe, their dependency edges and install tiers.
#[derive(Debug)]
pub struct DeploymentGraph {
    graph: DiGraph<Node, Needs>,
    /// Tier of each node, by node index.
    tiers: Vec<usize>,
}

impl DeploymentGraph {
    /// Builds the graph of `recipe`. A dependency on a component the
    /// recipe does not hold, or a cycle (reported with its path), is
    /// INVALID_REQUEST.
    pub fn of(recipe: &RecipeResult) -> Result<Self> {
        let wave: HashMap<&str, usize> = recipe
            .deployment_order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut components: Vec<_> = recipe.component_refs.iter().collect();
        // Nodes in install order (then by name for anything the order
        // does not list), so the output reads top to bottom.
        components.sort_by_key(|c| (wave.get(c.name.as_str()).copied(), c.name.as_str()));
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for (i, c) in components.iter().enumerate() {
            let node = graph.add_node(Node {
                name: c.name.clone(),
                version: c.version.clone(),
                wave: wave.get(c.name.as_str()).copied().unwrap_or(i),
            });
            index.insert(c.name.as_str(), node);
        }
        for c in &components {
            for dep in &c.dependency_refs {
                let Some(&from) = index.get(dep.as_str()) else {
                    return Err(Error::invalid(format!(
                        "component {:?} depends on {dep:?}, which is not in the recipe",
                        c.name
                    )));
                };
                graph.add_edge(from, index[c.name.as_str()], Needs);
            }
        }
        let sorted = petgraph::algo::toposort(&graph, None).map_err(|_| {
            Error::invalid(format!(
                "circular dependency detected: {}",
                cycle_path(&graph, |n: &Node| &n.name).join(" -> ")
            ))
        })?;
        let mut tiers = vec![0; graph.node_count()];
        for node in sorted {
            tiers[node.index()] = graph
                .neighbors_directed(node, petgraph::Direction::Incoming)
                .map(|dep| tiers[dep.index()] + 1)
                .max()
                .unwrap_or(0);
        }
        Ok(Self { graph, tiers })
    }

    /// The components of each tier, in install order, tier 0 first.
    pub fn tiers(&self) -> Vec<Vec<&str>> {
        self.tier_indices()
            .iter()
            .map(|nodes| nodes.iter().map(|&n| self.graph[n].name.as_str()).collect())
            .collect()
    }

    /// Graphviz DOT: petgraph's node and edge statements, left to right,
    /// with one `rank=same` group per tier.
    pub fn to_dot(&self) -> String {
        let config = [Config::GraphContentOnly, Config::EdgeNoLabel];
        let content =
            Dot::with_attr_getters(&self.graph, &config, &|_, _| String::new(), &|_, _| {
                String::new()
            });
        let mut out = String::from("digraph deployment {\n    rankdir=\"LR\"\n");
        out.push_str("    node [ shape = \"box\" ]\n");
        let _ = write!(out, "{content}");
        for (tier, nodes) in self.tier_indices().iter().enumerate() {
            let ids: Vec<String> = nodes.iter().map(|n| n.index().to_string()).collect();
            let _ = writeln!(
                out,
                "    subgraph tier_{tier} {{ rank = \"same\"; {} }}",
                ids.join("; ")
            );
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart: one subgraph per tier, then the edges.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (tier, nodes) in self.tier_indices().iter().enumerate() {
            let _ = writeln!(out, "    subgraph tier{tier}[\"tier {tier}\"]");
            for &n in nodes {
                let node = &self.graph[n];
                let mut label = mermaid_text(&node.name);
                if !node.version.is_empty() {
                    let _ = write!(label, "<br>{}", mermaid_text(&node.version));
                }
                let _ = writeln!(
                    out,
                    "        n{}[\"{label}<br>wave {}\"]",
                    n.index(),
                    node.wave
                );
            }
            out.push_str("    end\n");
        }
        for edge in self.graph.edge_references() {
            let _ = writeln!(
                out,
                "    n{} --> n{}",
                edge.source().index(),
                edge.target().index()
            );
        }
        out
    }

    fn tier_indices(&self) -> Vec<Vec<NodeIndex>> {
        let count = self.tiers.iter().max().map_or(0, |t| t + 1);
        let mut out = vec![Vec::new(); count];
        for node in self.graph.node_indices() {
            out[self.tiers[node.index()]].push(node);
        }
        out
    }
}

/// The names along a cycle of `graph`, which has one, in dependency
/// direction (`a -> b` reads "a depends on b"), ending where it began.
/// The cycle goes through the first node (by index) of a strongly
/// connected component that has one, and is the shortest way back to it
/// (breadth first, edges in insertion order), so the same recipe always
/// names the same cycle.
pub(crate) fn cycle_path<N, E>(graph: &DiGraph<N, E>, name: impl Fn(&N) -> &str) -> Vec<String> {
    let Some(start) = petgraph::algo::tarjan_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .filter_map(|scc| scc.into_iter().min())
        .min()
    else {
        return Vec::new();
    };
    // Edges point from a dependency to its dependent; a dependency chain
    // follows them backwards.
    let mut came_from: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for dep in graph.neighbors_directed(node, petgraph::Direction::Incoming) {
            if dep == start {
                // Walk back from `node` (which depends on `start`) to
                // `start`, then read the chain forwards.
                let mut chain = Vec::new();
                let mut at = node;
                while at != start {
                    chain.push(name(&graph[at]).to_string());
                    at = came_from[&at];
                }
                chain.push(name(&graph[start]).to_string());
                chain.reverse();
                chain.push(name(&graph[start]).to_string());
                return chain;
            }
            if dep != start && !came_from.contains_key(&dep) {
                came_from.insert(dep, node);
                queue.push_back(dep);
            }
        }
    }
    vec![name(&graph[start]).to_string()]
}

/// Text safe inside a quoted Mermaid label: quotes and angle brackets as
/// entity codes (a label is HTML to Mermaid).
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recipe with `(name, version, dependencies)` components, in the
    /// order given as `deploymentOrder`.
    fn recipe(components: &[(&str, &str, &[&str])]) -> RecipeResult {
        let refs: Vec<serde_json::Value> = components
            .iter()
            .map(|(n, v, d)| serde_json::json!({"name": n, "version": v, "type": "Helm", "source": "https://x", "dependencyRefs": d}))
            .collect();
        let order: Vec<&str> = components.iter().map(|c| c.0).collect();
        let doc = serde_json::json!({
            "kind": "RecipeResult",
            "apiVersion": "aicr.nvidia.com/v1alpha1",
            "metadata": {"version": "test"},
            "componentRefs": refs,
            "deploymentOrder": order,
        });
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn tiers_are_the_longest_dependency_chain() {
        let g = DeploymentGraph::of(&recipe(&[
            ("cert-manager", "v1", &[]),
            ("nfd", "0.1", &[]),
            ("gpu-operator", "v25", &["nfd", "cert-manager"]),
            ("kai", "v0.1", &["gpu-operator"]),
            ("adapter", "5", &["cert-manager"]),
        ]))
        .unwrap();
        assert_eq!(
            g.tiers(),
            vec![
                vec!["cert-manager", "nfd"],
                vec!["gpu-operator", "adapter"],
                vec!["kai"]
            ]
        );
    }

    #[test]
    fn dot_and_mermaid_draw_every_node_edge_and_tier() {
        let g = DeploymentGraph::of(&recipe(&[("a", "v1", &[]), ("b", "", &["a"])])).unwrap();
        let dot = g.to_dot();
        assert!(dot.starts_with("digraph deployment {\n"), "{dot}");
        assert!(
            dot.contains("0 [ label = \"a\\lv1\\lwave 0\\l\" ]"),
            "{dot}"
        );
        assert!(dot.contains("0 -> 1 [ ]"), "{dot}");
        assert!(
            dot.contains("subgraph tier_1 { rank = \"same\"; 1 }"),
            "{dot}"
        );
        let mermaid = g.to_mermaid();
        assert_eq!(
            mermaid,
            "flowchart LR\n    subgraph tier0[\"tier 0\"]\n        n0[\"a<br>v1<br>wave 0\"]\n    end\n    subgraph tier1[\"tier 1\"]\n        n1[\"b<br>wave 1\"]\n    end\n    n0 --> n1\n"
        );
    }

    #[test]
    fn a_cycle_is_reported_with_its_path() {
        let err = DeploymentGraph::of(&recipe(&[
            ("x", "", &[]),
            ("a", "", &["b"]),
            ("b", "", &["c", "x"]),
            ("c", "", &["a"]),
        ]))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("circular dependency detected: "), "{text}");
        // Whichever member the sort stops at, the path closes on itself
        // and follows "depends on" edges.
        let path = text.rsplit(": ").next().unwrap();
        let names: Vec<&str> = path.split(" -> ").collect();
        assert_eq!(names.len(), 4, "{text}");
        assert_eq!(names.first(), names.last());
        for pair in names.windows(2) {
            let depends = match pair[0] {
                "a" => "b",
                "b" => "c",
                "c" => "a",
                other => panic!("{other} is not on the cycle"),
            };
            assert_eq!(pair[1], depends, "{text}");
        }
        let self_loop = DeploymentGraph::of(&recipe(&[("s", "", &["s"])])).unwrap_err();
        assert!(self_loop.to_string().ends_with("s -> s"), "{self_loop}");
    }

    #[test]
    fn an_unknown_dependency_is_refused() {
        let err = DeploymentGraph::of(&recipe(&[("a", "", &["ghost"])])).unwrap_err();
        assert!(err.to_string().contains("\"ghost\""), "{err}");
    }

    #[test]
    fn labels_cannot_break_out_of_mermaid_quotes() {
        assert_eq!(mermaid_text("a\"b<c>#"), "a#quot;b#lt;c#gt;#35;");
    }
}

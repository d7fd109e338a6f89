//! The line of each key in a YAML values file, for explanations. Parsed
//! only when explaining, with the same parser as the values themselves.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Each mapping key's path with its 1-based line; `None` when the file
/// does not parse as a tree of string-keyed mappings (the explanation then
/// names the file without lines).
pub fn of(bytes: &[u8]) -> Option<HashMap<Vec<String>, u64>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if text.trim().is_empty() {
        return Some(HashMap::new());
    }
    let tree: Node = serde_saphyr::from_str(text).ok()?;
    let mut out = HashMap::new();
    walk(&tree, &mut Vec::new(), &mut out);
    Some(out)
}

fn walk(node: &Node, path: &mut Vec<String>, out: &mut HashMap<Vec<String>, u64>) {
    if let Node::Map(entries) = node {
        for (key, child) in entries {
            path.push(key.value.0.clone());
            out.insert(path.clone(), key.referenced.line());
            walk(child, path, out);
            path.pop();
        }
    }
}

/// A values document reduced to its mapping structure.
enum Node {
    Map(Vec<(Spanned<Key>, Node)>),
    Other,
}

/// A mapping key as text: the parser hands keys as strings, numbers or
/// booleans.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a YAML node")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<Key>>()? {
                    entries.push((key, map.next_value::<Node>()?));
                }
                Ok(Node::Map(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Node::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_lines() {
        let text = "# head\na:\n  b: 1\n  c:\n    - x\n    - y\nd: {e: 2}\n'9': true\n";
        let lines = of(text.as_bytes()).unwrap();
        let at = |p: &[&str]| lines[&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
        assert_eq!(at(&["a"]), 2);
        assert_eq!(at(&["a", "b"]), 3);
        assert_eq!(at(&["a", "c"]), 4);
        assert_eq!(at(&["d", "e"]), 7);
        assert_eq!(at(&["9"]), 8);
    }

    #[test]
    fn a_non_mapping_or_broken_file_has_no_lines() {
        assert!(of(b"a: [").is_none());
        assert!(of(b"\xff").is_none());
    }
}

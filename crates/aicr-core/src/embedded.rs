//! The compact form of the pre-parsed embedded catalog, and a serde
//! deserializer that reads it.
//!
//! `build.rs` parses every YAML document of `recipes/` once, at compile
//! time, into the JSON data model and writes it in this form: a tag byte
//! per value, lengths as varints of 6-bit groups (`0x40` marks "more"),
//! strings as raw UTF-8 (no escapes to undo), numbers as the 16 hex digits
//! of their 64 bits. Every byte outside strings is ASCII, so the whole
//! blob is one `&str`, checked once when it is compiled in: strings are
//! sliced out of it without validating them again. Reading it is a walk
//! over the text that hands borrowed strings to the visitors and exact
//! sequence and map lengths as size hints. It is cheaper than parsing the
//! same data as JSON text (loading the catalog went from 2.2 M to 1.8 M
//! instructions; most of the rest is allocating the owned documents), and
//! start-up is most of what a command costs.
//!
//! The deserializer behaves like `serde_json` reading the equivalent JSON
//! for every shape the catalog types use (the data is self-describing, so
//! `serde_json::Value` and `deserialize_any` work). Externally tagged enum
//! variants that carry data are not supported and fail: callers fall back
//! to the YAML, which is always embedded too.

use std::fmt;

use serde::de::{self, DeserializeSeed, Visitor};

include!("embedded/tags.rs");

/// Decodes one document of the compact form into `T`; `None` when the
/// bytes do not hold a `T` (the caller then parses the YAML, whose error
/// carries a line number).
pub fn from_compact<'de, T: de::Deserialize<'de>>(text: &'de str) -> Option<T> {
    let mut decoder = Decoder { input: text };
    let value = T::deserialize(&mut decoder).ok()?;
    decoder.input.is_empty().then_some(value)
}

/// Why a compact document does not decode into the wanted type.
#[derive(Debug)]
pub struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        DecodeError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

#[cold]
#[inline(never)]
fn corrupt() -> DecodeError {
    DecodeError("corrupt compact document".into())
}

/// Reads values from the front of `input`.
struct Decoder<'de> {
    input: &'de str,
}

impl<'de> Decoder<'de> {
    #[inline]
    fn peek(&self) -> Result<u8> {
        self.input.as_bytes().first().copied().ok_or_else(corrupt)
    }

    /// The next `n` bytes; they must end on a character boundary.
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'de str> {
        let head = self.input.get(..n).ok_or_else(corrupt)?;
        self.input = &self.input[n..];
        Ok(head)
    }

    #[inline]
    fn byte(&mut self) -> Result<u8> {
        match self.input.as_bytes().first() {
            Some(&b) if b.is_ascii() => {
                self.input = &self.input[1..];
                Ok(b)
            }
            _ => Err(corrupt()),
        }
    }

    #[inline]
    fn len(&mut self) -> Result<usize> {
        let first = self.byte()?;
        if first & 0x40 == 0 {
            return Ok(usize::from(first));
        }
        let mut value = usize::from(first & 0x3f);
        let mut shift = 6;
        loop {
            let b = self.byte()?;
            if shift >= usize::BITS {
                return Err(corrupt());
            }
            value |= usize::from(b & 0x3f) << shift;
            if b & 0x40 == 0 {
                return Ok(value);
            }
            shift += 6;
        }
    }

    fn word(&mut self) -> Result<u64> {
        u64::from_str_radix(self.take(16)?, 16).map_err(|_| corrupt())
    }

    #[inline]
    fn str(&mut self) -> Result<&'de str> {
        let n = self.len()?;
        self.take(n)
    }

    /// Skips one whole value.
    fn skip(&mut self) -> Result<()> {
        match self.byte()? {
            NULL | FALSE | TRUE => Ok(()),
            U64 | I64 | F64 => self.take(16).map(drop),
            STR => {
                let n = self.len()?;
                self.take(n).map(drop)
            }
            SEQ => {
                for _ in 0..self.len()? {
                    self.skip()?;
                }
                Ok(())
            }
            MAP => {
                for _ in 0..self.len()? {
                    self.skip()?;
                    self.skip()?;
                }
                Ok(())
            }
            _ => Err(corrupt()),
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            NULL => visitor.visit_unit(),
            FALSE => visitor.visit_bool(false),
            TRUE => visitor.visit_bool(true),
            U64 => visitor.visit_u64(self.word()?),
            I64 => visitor.visit_i64(self.word()? as i64),
            F64 => visitor.visit_f64(f64::from_bits(self.word()?)),
            STR => visitor.visit_borrowed_str(self.str()?),
            SEQ => {
                let mut access = Counted { de: self, left: 0 };
                access.left = access.de.len()?;
                let value = visitor.visit_seq(&mut access)?;
                if access.left != 0 {
                    return Err(de::Error::invalid_length(access.left, &"fewer elements"));
                }
                Ok(value)
            }
            MAP => {
                let mut access = Counted { de: self, left: 0 };
                access.left = access.de.len()?;
                let value = visitor.visit_map(&mut access)?;
                if access.left != 0 {
                    return Err(de::Error::invalid_length(access.left, &"fewer entries"));
                }
                Ok(value)
            }
            _ => Err(corrupt()),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? == NULL {
            self.byte()?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if self.peek()? != STR {
            return Err(DecodeError("only unit enum variants are supported".into()));
        }
        self.byte()?;
        let name = self.str()?;
        visitor.visit_enum(de::value::BorrowedStrDeserializer::new(name))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

/// The elements of a sequence, or the entries of a mapping, still to read.
struct Counted<'a, 'de> {
    de: &'a mut Decoder<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Counted<'_, 'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::MapAccess<'de> for Counted<'_, 'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    // The encoder `build.rs` uses, for tests of the decoder.
    include!("embedded/encode.rs");

    fn bytes(value: &Value) -> String {
        let mut out = Vec::new();
        encode(value, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_round_trip() {
        let value = json!({
            "s": "x", "long": "y".repeat(300), "n": null, "t": true, "f": false,
            "u": 7, "i": -3, "x": 1.5, "list": [1, "a", [], {}], "z": {"b": 1, "a": 2},
            "big": u64::MAX, "neg": i64::MIN, "é": "ünïcode ✓"
        });
        assert_eq!(from_compact::<Value>(&bytes(&value)), Some(value));
    }

    #[test]
    fn typed_documents_decode_like_json() {
        use crate::model::{ComponentRef, Constraint};
        let value = json!({"name": "a", "type": "Kustomize", "namespace": null,
                           "overrides": {"k": [1, 2]}});
        let want: ComponentRef = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(from_compact::<ComponentRef>(&bytes(&value)), Some(want));
        let unknown = json!({"name": "a", "value": "b", "nope": 1});
        assert!(serde_json::from_value::<Constraint>(unknown.clone()).is_err());
        assert!(from_compact::<Constraint>(&bytes(&unknown)).is_none());
    }

    #[test]
    fn truncated_or_trailing_bytes_fail() {
        let mut b = bytes(&json!({"a": [1, 2]}));
        assert!(from_compact::<Value>(&b[..b.len() - 1]).is_none());
        b.push(char::from(NULL));
        assert!(from_compact::<Value>(&b).is_none());
    }
}

// The encoder of the compact form (see `embedded.rs`): used by `build.rs`
// to embed the catalog and by the decoder's tests, through `include!`.

fn encode_len(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x3f) as u8;
        n >>= 6;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x40);
    }
}

fn encode_word(tag: u8, bits: u64, out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(format!("{bits:016x}").as_bytes());
}

fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.push(STR);
    encode_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// Writes `value` in the compact form.
fn encode(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(b) => out.push(if *b { TRUE } else { FALSE }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                encode_word(U64, u, out);
            } else if let Some(i) = n.as_i64() {
                encode_word(I64, i as u64, out);
            } else {
                let f = n.as_f64().expect("a JSON number is u64, i64 or f64");
                encode_word(F64, f.to_bits(), out);
            }
        }
        Value::String(s) => encode_str(s, out),
        Value::Array(items) => {
            out.push(SEQ);
            encode_len(items.len(), out);
            for item in items {
                encode(item, out);
            }
        }
        Value::Object(map) => {
            out.push(MAP);
            encode_len(map.len(), out);
            for (key, item) in map {
                encode_str(key, out);
                encode(item, out);
            }
        }
    }
}

//! `toYaml` exactly as Helm's `sigs.k8s.io/yaml` writes it: the value goes
//! through JSON (integral floats become integers), then through go-yaml v2's
//! emitter (a port of libyaml): keys in v2's natural order, 2-space
//! indentation, sequences not indented under their key, YAML 1.1 quoting
//! rules (`"yes"`, `"on"`, `"1.0"` are quoted), folding of long scalars at
//! 80 columns, literal blocks for multi-line strings.
//!
//! The emitter mirrors libyaml's column/indentation state machine rather
//! than formatting by recursion, because the spacing rules (where a space
//! or a line break goes before an indicator) are defined by that machine.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::funcs::go_float;

const BEST_INDENT: i32 = 2;
const BEST_WIDTH: usize = 80;

/// Renders `value` as Helm's `toYaml` does (no trailing newline).
pub(super) fn to_yaml(value: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent: -1,
        indents: Vec::new(),
    };
    e.node(value, Ctx::Root);
    let mut out = e.out;
    if out.ends_with('\n') {
        out.pop();
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    Key,
    MapValue,
    SeqItem,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i32,
    indents: Vec<i32>,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, indicator: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        indicator.chars().for_each(|c| self.put(c));
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn node(&mut self, value: &Value, ctx: Ctx) {
        match value {
            Value::Object(map) if map.is_empty() => self.flow_empty("{", "}"),
            Value::Array(items) if items.is_empty() => self.flow_empty("[", "]"),
            Value::Object(map) => self.block_mapping(map),
            Value::Array(items) => self.block_sequence(items, ctx == Ctx::MapValue),
            Value::String(s) => self.scalar(s, string_style(s, ctx == Ctx::Key), ctx),
            Value::Null => self.scalar("null", Style::Plain, ctx),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, ctx),
            Value::Number(n) => self.scalar(&json_number(n), Style::Plain, ctx),
        }
    }

    fn flow_empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn block_mapping(&mut self, map: &Map<String, Value>) {
        self.increase_indent(false, false);
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| key_order(a, b));
        for key in keys {
            self.write_indent();
            self.node(&Value::String(key.clone()), Ctx::Key);
            self.write_indicator(":", false, false, false);
            self.node(&map[key.as_str()], Ctx::MapValue);
        }
        self.pop_indent();
    }

    fn block_sequence(&mut self, items: &[Value], mapping_context: bool) {
        let indentless = mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Ctx::SeqItem);
        }
        self.pop_indent();
    }

    fn scalar(&mut self, text: &str, style: Style, ctx: Ctx) {
        let allow_breaks = ctx != Ctx::Key;
        self.increase_indent(true, false);
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::Single => self.write_single(text, allow_breaks),
            Style::Double => self.write_double(text, allow_breaks),
            Style::Literal => self.write_literal(text),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let fold = allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ');
                if fold {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match escape(c) {
                    Some(e) => self.put(e),
                    None => {
                        let code = c as u32;
                        let hex = if code <= 0xff {
                            format!("x{code:02X}")
                        } else if code <= 0xffff {
                            format!("u{code:04X}")
                        } else {
                            format!("U{code:08X}")
                        };
                        hex.chars().for_each(|h| self.put(h));
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
    }

    fn write_literal(&mut self, text: &str) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let n = chars.len();
        let chomp = if n == 0 || !is_break(chars[n - 1]) {
            Some("-")
        } else if n == 1 || is_break(chars[n - 2]) {
            Some("+")
        } else {
            None
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in chars {
            if is_break(c) {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
    }
}

fn escape(c: char) -> Option<char> {
    Some(match c {
        '\0' => '0',
        '\u{7}' => 'a',
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => return None,
    })
}

/// A number after the JSON round trip: integral floats print as integers.
fn json_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => {
            if f.fract() == 0.0 && f.abs() < 9.0e18 {
                format!("{}", f as i64)
            } else {
                match go_float(f).as_str() {
                    "+Inf" => ".inf".into(),
                    "-Inf" => "-.inf".into(),
                    "NaN" => ".nan".into(),
                    other => other.into(),
                }
            }
        }
        _ => n.to_string(),
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(c: Option<char>) -> bool {
    c.is_none_or(|c| c == ' ' || c == '\t' || is_break(c))
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || u == 0x85
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
        || (0x10000..=0x10ffff).contains(&u)
}

/// What libyaml's scalar analysis allows for `text`.
struct Analysis {
    block_plain: bool,
    single: bool,
    block: bool,
}

fn analyze(text: &str) -> Analysis {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Analysis {
            block_plain: true,
            single: true,
            block: false,
        };
    }
    let mut block_ind = text.starts_with("---") || text.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break) =
        (false, false, false, false);
    let mut preceded_ws = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_ws = is_blank_or_end(chars.get(i + 1).copied());
        if i == 0 {
            block_ind |= "#,[]{}&*!|>'\"%@`".contains(c)
                || ((c == '?' || c == ':' || c == '-') && followed_ws);
        } else {
            block_ind |= (c == ':' && followed_ws) || (c == '#' && preceded_ws);
        }
        special |= !is_printable(c);
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= prev_break;
            (prev_space, prev_break) = (true, false);
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= prev_space;
            (prev_space, prev_break) = (false, true);
        } else {
            (prev_space, prev_break) = (false, false);
        }
        preceded_ws = is_blank_or_end(Some(c));
    }
    let mut a = Analysis {
        block_plain: true,
        single: true,
        block: true,
    };
    if leading_space
        || leading_break
        || trailing_space
        || trailing_break
        || line_breaks
        || block_ind
    {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a = Analysis {
            block_plain: false,
            single: false,
            block: false,
        };
    }
    a
}

/// The style go-yaml v2 asks for, adjusted as libyaml's emitter does.
fn string_style(text: &str, simple_key: bool) -> Style {
    let requested = if text.contains('\n') {
        Style::Literal
    } else if !resolves_to_non_string(text) && !is_base60_float(text) {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(text);
    let mut style = requested;
    if style == Style::Plain && (!a.block_plain || (text.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}

const NON_STRINGS: [&str; 39] = [
    "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true",
    "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", ".inf",
    ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
    "<<",
];

/// Whether go-yaml v2 would read the plain scalar `text` as something
/// other than a string (null, bool, number, timestamp).
fn resolves_to_non_string(text: &str) -> bool {
    if text.is_empty() || NON_STRINGS.contains(&text) {
        return true;
    }
    match text.as_bytes()[0] {
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = text.replace('_', "");
            text.as_bytes()[0].is_ascii_digit() && is_timestamp(text)
                || is_go_int(&plain)
                || is_yaml_float(&plain)
                || plain.strip_prefix('-').unwrap_or(&plain).starts_with("0b")
                    && plain.split_once("0b").is_some_and(|(_, b)| {
                        !b.is_empty() && b.bytes().all(|d| d == b'0' || d == b'1')
                    })
        }
        b'.' => text.parse::<f64>().is_ok(),
        _ => false,
    }
}

fn all_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax (overflow ignored).
fn is_go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        all_digits(hex, 16)
    } else if let Some(oct) = lower.strip_prefix("0o") {
        all_digits(oct, 8)
    } else if let Some(bin) = lower.strip_prefix("0b") {
        all_digits(bin, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        all_digits(&lower, 8)
    } else {
        all_digits(&lower, 10)
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => all_digits(frac, 10),
        Some((int, frac)) => all_digits(int, 10) && (frac.is_empty() || all_digits(frac, 10)),
        None => all_digits(mantissa, 10),
    };
    mantissa_ok && exp.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e), 10))
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let rest: Vec<&str> = parts.collect();
    head_ok
        && !rest.is_empty()
        && rest.iter().all(|p| match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        })
}

/// go-yaml v2's timestamp formats: `YYYY-M-D`, optionally with a time.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let date_end = rest.find(['T', 't', ' ']).unwrap_or(rest.len());
    let mut date = rest[..date_end].split('-');
    let num = |p: Option<&str>, max: u32| {
        p.filter(|p| (1..=2).contains(&p.len()) && all_digits(p, 10))
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|n| (1..=max).contains(&n))
    };
    if !(num(date.next(), 12) && num(date.next(), 31) && date.next().is_none()) {
        return false;
    }
    let time = &rest[date_end..];
    if time.is_empty() {
        return true;
    }
    let zoned = !time.starts_with(' ');
    let time = &time[1..];
    let clock_end = time
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(time.len());
    let (clock, zone) = time.split_at(clock_end);
    let clock = clock.split('.').next().unwrap_or("");
    let fields: Vec<&str> = clock.split(':').collect();
    let clock_ok = fields.len() == 3
        && fields
            .iter()
            .all(|f| (1..=2).contains(&f.len()) && all_digits(f, 10));
    clock_ok
        && if zoned {
            zone == "Z"
                || (zone.len() == 6 && zone.starts_with(['+', '-']) && zone.as_bytes()[3] == b':')
        } else {
            zone.is_empty()
        }
}

/// go-yaml v2's key order: letters after non-letters, digit runs compared
/// as numbers.
fn key_order(a: &str, b: &str) -> Ordering {
    if key_less(a, b) {
        Ordering::Less
    } else if key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_sort_keys_sequences_sit_at_the_key_indent_and_y_is_a_bool() {
        let v = json!({"b": [{"y": 1, "x": "v"}], "a": {"c": [], "d": {}}});
        assert_eq!(to_yaml(&v), "a:\n  c: []\n  d: {}\nb:\n- x: v\n  \"y\": 1");
    }

    #[test]
    fn ambiguous_strings_are_quoted_as_go_yaml_v2_does() {
        let v = json!({"a": "true", "b": "yes", "c": "1.0", "d": "", "e": "a: b", "f": "- x",
                       "g": "570.133.20", "h": "2024-01-02", "i": "1:20", "j": "it's", "k": "tab\there"});
        assert_eq!(
            to_yaml(&v),
            "a: \"true\"\nb: \"yes\"\nc: \"1.0\"\nd: \"\"\ne: 'a: b'\nf: '- x'\ng: 570.133.20\n\
             h: \"2024-01-02\"\ni: \"1:20\"\nj: it's\nk: \"tab\\there\""
        );
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let v = json!({"s": "a\n\nb\n", "t": "x\ny", "u": " lead\n"});
        assert_eq!(
            to_yaml(&v),
            "s: |\n  a\n\n  b\nt: |-\n  x\n  y\nu: |2\n   lead"
        );
    }

    #[test]
    fn scalars_and_numbers_round_trip_through_json() {
        assert_eq!(to_yaml(&json!(2.0)), "2");
        assert_eq!(to_yaml(&json!(0.5)), "0.5");
        assert_eq!(to_yaml(&json!(null)), "null");
        assert_eq!(to_yaml(&json!([[1, 2], true])), "- - 1\n  - 2\n- true");
        assert_eq!(to_yaml(&json!({})), "{}");
    }

    #[test]
    fn long_plain_scalars_fold_at_eighty_columns() {
        let words = vec!["word"; 30].join(" ");
        let out = to_yaml(&json!({ "k": words }));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].starts_with("  word"));
    }

    #[test]
    fn key_order_compares_digit_runs_numerically() {
        let v = json!({"a10": 1, "a9": 2, "a_b": 3, "aB": 4});
        assert_eq!(to_yaml(&v), "a_b: 3\na9: 2\na10: 1\naB: 4");
    }
}

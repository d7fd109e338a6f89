//! Lexing and parsing of Go template text into a tree of [`Node`]s.
//!
//! The grammar is the subset of `text/template` our catalog manifests use:
//! text, `{{- -}}` trimming, comments, pipelines with `|`, parenthesised
//! sub-expressions, variables (`$x := ...`, `$x = ...`), field chains and
//! the `if`/`else if`/`with`/`else with`/`range`/`end` actions.

use serde_json::Value;

use super::funcs::is_function;

/// A parse failure with the 1-based line it happened on.
#[derive(Debug)]
pub(super) struct ParseError {
    pub line: usize,
    pub message: String,
}

type PResult<T> = std::result::Result<T, ParseError>;

fn fail<T>(line: usize, message: impl Into<String>) -> PResult<T> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

/// One node of the template tree.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// Literal text, already trimmed by adjacent `{{-`/`-}}` markers.
    Text(String),
    /// `{{ pipeline }}`: printed unless it declares a variable.
    Action(Pipe),
    /// `{{ if }}`.
    If(Branch),
    /// `{{ with }}`.
    With(Branch),
    /// `{{ range }}`.
    Range(Branch),
}

/// A control structure: the pipeline, the body and the `else` part.
#[derive(Debug, Clone)]
pub(super) struct Branch {
    pub pipe: Pipe,
    pub body: Vec<Node>,
    pub otherwise: Vec<Node>,
}

/// A pipeline: optional variable declarations, then commands joined by `|`.
#[derive(Debug, Clone)]
pub(super) struct Pipe {
    pub line: usize,
    pub decl: Vec<String>,
    /// `=` (assign to an existing variable) rather than `:=`.
    pub is_assign: bool,
    pub cmds: Vec<Vec<Operand>>,
}

/// A term followed by a chain of field names (`$x.a.b`, `(f).a`).
#[derive(Debug, Clone)]
pub(super) struct Operand {
    pub term: Term,
    pub fields: Vec<String>,
}

/// The start of an operand.
#[derive(Debug, Clone)]
pub(super) enum Term {
    /// `.`, or the start of `.a.b`.
    Dot,
    /// `$` or `$name`.
    Var(String),
    /// A function name.
    Func(String),
    /// A string, number, boolean or `nil` constant.
    Lit(Value),
    /// `( pipeline )`.
    Sub(Box<Pipe>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(String),
    Dot,
    Var(String),
    Ident(String),
    Str(String),
    Num(Value),
    LParen,
    RParen,
    Bar,
    Declare,
    Assign,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Whitespace came right before the token (ends a field chain).
    spaced: bool,
}

enum Item {
    Text(String),
    Action { line: usize, toks: Vec<Token> },
}

/// Parses template text into a tree.
pub(super) fn parse(src: &str) -> PResult<Vec<Node>> {
    let items = lex(src)?;
    let mut parser = Parser {
        items,
        pos: 0,
        depth: 0,
    };
    let (nodes, end) = parser.list()?;
    match end {
        Terminator::Eof => Ok(nodes),
        Terminator::End(line) => fail(line, "unexpected {{end}}"),
        Terminator::Else(line, _) => fail(line, "unexpected {{else}}"),
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Splits the source into text and action items, applying trim markers.
fn lex(src: &str) -> PResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut rest = src;
    let mut line = 1;
    let mut trim_next = false;
    loop {
        let Some(start) = rest.find("{{") else {
            let text = if trim_next {
                rest.trim_start_matches(is_space)
            } else {
                rest
            };
            if !text.is_empty() {
                items.push(Item::Text(text.to_string()));
            }
            return Ok(items);
        };
        let after = &rest[start + 2..];
        let left_trim = after.starts_with('-') && after[1..].starts_with(is_space);
        let mut text = &rest[..start];
        if trim_next {
            text = text.trim_start_matches(is_space);
        }
        if left_trim {
            text = text.trim_end_matches(is_space);
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        line += rest[..start].matches('\n').count();
        let body = if left_trim { &after[2..] } else { after };
        let action_line = line;
        let (len, right_trim, toks) = if body.starts_with("/*") {
            lex_comment(body, line)?
        } else {
            lex_action(body, line)?
        };
        line += body[..len].matches('\n').count();
        if let Some(toks) = toks {
            items.push(Item::Action {
                line: action_line,
                toks,
            });
        }
        trim_next = right_trim;
        rest = &body[len..];
    }
}

/// Lexes `/* ... */}}`; returns the consumed length and the right trim flag.
fn lex_comment(body: &str, line: usize) -> PResult<(usize, bool, Option<Vec<Token>>)> {
    let Some(end) = body.find("*/") else {
        return fail(line, "unclosed comment");
    };
    let tail = &body[end + 2..];
    if tail.starts_with("}}") {
        Ok((end + 4, false, None))
    } else if tail.len() > 1 && tail.starts_with(is_space) && tail[1..].starts_with("-}}") {
        Ok((end + 6, true, None))
    } else {
        fail(line, "comment ends before closing delimiter")
    }
}

type Lexed = (usize, bool, Option<Vec<Token>>);

/// Lexes the inside of an action up to and including `}}` or ` -}}`.
fn lex_action(body: &str, line: usize) -> PResult<Lexed> {
    let bytes = body.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < bytes.len() {
        let c = bytes[i] as char;
        let rest = &body[i..];
        if rest.starts_with("}}") {
            return Ok((i + 2, false, Some(toks)));
        }
        if is_space(c) {
            let ws = rest.len() - rest.trim_start_matches(is_space).len();
            if rest[ws..].starts_with("-}}") {
                return Ok((i + ws + 3, true, Some(toks)));
            }
            i += ws;
            spaced = true;
            continue;
        }
        let (tok, len) = lex_token(rest, line)?;
        toks.push(Token { tok, spaced });
        spaced = false;
        i += len;
    }
    fail(line, "unclosed action")
}

fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(s.len(), |(i, _)| i)
}

fn lex_token(rest: &str, line: usize) -> PResult<(Tok, usize)> {
    let c = rest.chars().next().unwrap_or(' ');
    let next = rest[c.len_utf8()..].chars().next();
    Ok(match c {
        '(' => (Tok::LParen, 1),
        ')' => (Tok::RParen, 1),
        '|' => (Tok::Bar, 1),
        ',' => (Tok::Comma, 1),
        ':' if next == Some('=') => (Tok::Declare, 2),
        '=' => (Tok::Assign, 1),
        '"' => lex_quoted(rest, line)?,
        '`' => match rest[1..].find('`') {
            Some(end) => (Tok::Str(rest[1..1 + end].to_string()), end + 2),
            None => return fail(line, "unterminated raw quoted string"),
        },
        '$' => {
            let len = 1 + ident_len(&rest[1..]);
            (Tok::Var(rest[..len].to_string()), len)
        }
        '.' if next.is_some_and(|n| n.is_ascii_digit()) => lex_number(rest, line)?,
        '.' => {
            let len = ident_len(&rest[1..]);
            if len == 0 {
                (Tok::Dot, 1)
            } else {
                (Tok::Field(rest[1..1 + len].to_string()), len + 1)
            }
        }
        '+' | '-' | '0'..='9' => lex_number(rest, line)?,
        c if c.is_alphabetic() || c == '_' => {
            let len = ident_len(rest);
            (Tok::Ident(rest[..len].to_string()), len)
        }
        other => return fail(line, format!("unexpected {other:?} in command")),
    })
}

fn lex_quoted(rest: &str, line: usize) -> PResult<(Tok, usize)> {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((Tok::Str(out), i + 1)),
            '\n' => break,
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    '\'' => Some('\''),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'v' => Some('\u{b}'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let digits = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => return fail(line, format!("unknown escape \\{e} in string")),
                };
                let hex: String = (0..digits)
                    .filter_map(|_| chars.next().map(|x| x.1))
                    .collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == digits => out.push(ch),
                    _ => return fail(line, format!("invalid escape \\{e}{hex}")),
                }
            }
            c => out.push(c),
        }
    }
    fail(line, "unterminated quoted string")
}

fn lex_number(rest: &str, line: usize) -> PResult<(Tok, usize)> {
    let bytes = rest.as_bytes();
    let mut len = usize::from(matches!(bytes[0], b'+' | b'-'));
    while len < bytes.len() {
        let b = bytes[len];
        let after_exp = len > 0 && matches!(bytes[len - 1], b'e' | b'E' | b'p' | b'P');
        if b.is_ascii_alphanumeric()
            || b == b'.'
            || b == b'_'
            || (after_exp && (b == b'+' || b == b'-'))
        {
            len += 1;
        } else {
            break;
        }
    }
    let text = &rest[..len];
    match parse_number(text) {
        Some(v) => Ok((Tok::Num(v), len)),
        None => fail(line, format!("bad number syntax: {text:?}")),
    }
}

fn parse_number(text: &str) -> Option<Value> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let radix = |p: &str, r: u32| i64::from_str_radix(&lower[p.len()..], r).ok();
    let int = if lower.starts_with("0x") {
        radix("0x", 16)
    } else if lower.starts_with("0o") {
        radix("0o", 8)
    } else if lower.starts_with("0b") {
        radix("0b", 2)
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        radix("0", 8)
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Some(Value::from(if neg { -i } else { i }));
    }
    if !lower.bytes().next()?.is_ascii_digit() && !lower.starts_with('.') {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    serde_json::Number::from_f64(if neg { -f } else { f }).map(Value::Number)
}

enum Terminator {
    Eof,
    End(usize),
    /// `{{else}}` (no pipeline) or `{{else if ...}}`/`{{else with ...}}`.
    Else(usize, Option<(String, Vec<Token>)>),
}

/// Bounds nesting of control structures and parentheses, so hostile input
/// cannot exhaust the stack.
const MAX_NESTING: usize = 100;

struct Parser {
    items: Vec<Item>,
    pos: usize,
    depth: usize,
}

impl Parser {
    /// Parses nodes until end of input, `{{end}}` or `{{else}}`.
    fn list(&mut self) -> PResult<(Vec<Node>, Terminator)> {
        let mut nodes = Vec::new();
        while self.pos < self.items.len() {
            let item = std::mem::replace(&mut self.items[self.pos], Item::Text(String::new()));
            self.pos += 1;
            let (line, toks) = match item {
                Item::Text(t) => {
                    nodes.push(Node::Text(t));
                    continue;
                }
                Item::Action { line, toks } => (line, toks),
            };
            let keyword = match toks.first() {
                Some(Token {
                    tok: Tok::Ident(k), ..
                }) => k.clone(),
                None => return fail(line, "missing value for command"),
                _ => String::new(),
            };
            match keyword.as_str() {
                "end" => {
                    if toks.len() > 1 {
                        return fail(line, "unexpected tokens after end");
                    }
                    return Ok((nodes, Terminator::End(line)));
                }
                "else" => {
                    let chained = match toks.get(1) {
                        None => None,
                        Some(Token {
                            tok: Tok::Ident(k), ..
                        }) if k == "if" || k == "with" => Some((k.clone(), toks[2..].to_vec())),
                        Some(_) => return fail(line, "unexpected tokens after else"),
                    };
                    return Ok((nodes, Terminator::Else(line, chained)));
                }
                "if" | "with" | "range" => {
                    nodes.push(self.control(&keyword, line, &toks[1..])?);
                }
                "define" | "template" | "block" | "break" | "continue" => {
                    return fail(line, format!("{{{{{keyword}}}}} is not supported"));
                }
                _ => nodes.push(Node::Action(pipeline(&toks, line, false)?)),
            }
        }
        Ok((nodes, Terminator::Eof))
    }

    /// Parses the rest of an `if`/`with`/`range` whose header is `toks`.
    fn control(&mut self, keyword: &str, line: usize, toks: &[Token]) -> PResult<Node> {
        if self.depth >= MAX_NESTING {
            return fail(line, "control structures nested too deeply");
        }
        self.depth += 1;
        let node = self.control_inner(keyword, line, toks);
        self.depth -= 1;
        node
    }

    fn control_inner(&mut self, keyword: &str, line: usize, toks: &[Token]) -> PResult<Node> {
        let pipe = pipeline(toks, line, keyword == "range")?;
        if pipe.cmds.is_empty() {
            return fail(line, format!("missing value for {keyword}"));
        }
        let (body, end) = self.list()?;
        let otherwise = match end {
            Terminator::Eof => return fail(line, format!("unexpected EOF: {keyword} without end")),
            Terminator::End(_) => Vec::new(),
            Terminator::Else(_, None) => match self.list()? {
                (nodes, Terminator::End(_)) => nodes,
                (_, Terminator::Else(l, _)) => return fail(l, "expected end; found else"),
                (_, Terminator::Eof) => {
                    return fail(line, format!("unexpected EOF: {keyword} without end"));
                }
            },
            Terminator::Else(l, Some((kw, toks))) => {
                if keyword == "range" || kw != keyword {
                    return fail(l, format!("else {kw} inside {keyword}"));
                }
                // `else if` shares the `end` of the outer `if`.
                vec![self.control(&kw, l, &toks)?]
            }
        };
        let branch = Branch {
            pipe,
            body,
            otherwise,
        };
        Ok(match keyword {
            "if" => Node::If(branch),
            "with" => Node::With(branch),
            _ => Node::Range(branch),
        })
    }
}

/// Parses a whole pipeline from an action's tokens.
fn pipeline(toks: &[Token], line: usize, in_range: bool) -> PResult<Pipe> {
    let mut cursor = Cursor {
        toks,
        pos: 0,
        line,
        depth: 0,
    };
    let pipe = cursor.pipe(in_range)?;
    match cursor.peek() {
        None => Ok(pipe),
        Some(t) => fail(line, format!("unexpected {t:?} in operand")),
    }
}

struct Cursor<'t> {
    toks: &'t [Token],
    pos: usize,
    line: usize,
    depth: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|t| &t.tok)
    }

    fn declarations(&mut self, in_range: bool) -> (Vec<String>, bool) {
        let var = |t: Option<&Tok>| match t {
            Some(Tok::Var(v)) => Some(v.clone()),
            _ => None,
        };
        if let Some(v) = var(self.peek()) {
            match self.peek_at(1) {
                Some(Tok::Declare) => {
                    self.pos += 2;
                    return (vec![v], false);
                }
                Some(Tok::Assign) => {
                    self.pos += 2;
                    return (vec![v], true);
                }
                Some(Tok::Comma) if in_range => {
                    if let (Some(w), Some(Tok::Declare)) = (var(self.peek_at(2)), self.peek_at(3)) {
                        self.pos += 4;
                        return (vec![v, w], false);
                    }
                }
                _ => {}
            }
        }
        (Vec::new(), false)
    }

    fn pipe(&mut self, in_range: bool) -> PResult<Pipe> {
        let (decl, is_assign) = self.declarations(in_range);
        let mut cmds = Vec::new();
        loop {
            let cmd = self.command()?;
            if cmd.is_empty() {
                if !cmds.is_empty() || !decl.is_empty() {
                    return fail(self.line, "missing command in pipeline");
                }
                break;
            }
            cmds.push(cmd);
            if self.peek() == Some(&Tok::Bar) {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(Pipe {
            line: self.line,
            decl,
            is_assign,
            cmds,
        })
    }

    fn command(&mut self) -> PResult<Vec<Operand>> {
        let mut operands = Vec::new();
        while let Some(tok) = self.peek() {
            if matches!(tok, Tok::Bar | Tok::RParen) {
                break;
            }
            operands.push(self.operand()?);
        }
        Ok(operands)
    }

    fn operand(&mut self) -> PResult<Operand> {
        let tok = self.toks[self.pos].tok.clone();
        self.pos += 1;
        let mut fields = Vec::new();
        let term = match tok {
            Tok::Dot => Term::Dot,
            Tok::Field(f) => {
                fields.push(f);
                Term::Dot
            }
            Tok::Var(v) => Term::Var(v),
            Tok::Str(s) => Term::Lit(Value::String(s)),
            Tok::Num(n) => Term::Lit(n),
            Tok::Ident(id) => match id.as_str() {
                "true" => Term::Lit(Value::Bool(true)),
                "false" => Term::Lit(Value::Bool(false)),
                "nil" => Term::Lit(Value::Null),
                _ if is_function(&id) => Term::Func(id),
                _ => return fail(self.line, format!("function {id:?} not defined")),
            },
            Tok::LParen => {
                if self.depth >= MAX_NESTING {
                    return fail(self.line, "parentheses nested too deeply");
                }
                self.depth += 1;
                let pipe = self.pipe(false);
                self.depth -= 1;
                let pipe = pipe?;
                if pipe.cmds.is_empty() {
                    return fail(self.line, "missing value in parenthesized pipeline");
                }
                if self.peek() != Some(&Tok::RParen) {
                    return fail(self.line, "unclosed left paren");
                }
                self.pos += 1;
                Term::Sub(Box::new(pipe))
            }
            other => return fail(self.line, format!("unexpected {other:?} in operand")),
        };
        while let Some(Token {
            tok: Tok::Field(f),
            spaced: false,
        }) = self.toks.get(self.pos)
        {
            fields.push(f.clone());
            self.pos += 1;
        }
        Ok(Operand { term, fields })
    }
}

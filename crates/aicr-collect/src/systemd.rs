//! The SystemD measurement: each service unit's properties, read from
//! systemd over its private D-Bus socket (`/run/systemd/private`), peer to
//! peer, without a bus daemon. The agent reaches it through the host's
//! `/run/systemd` mounted into its pod.
//!
//! Values keep their type when a reading can hold it (D-Bus `s`, `b`, `x`,
//! `t`, `d`); every other type becomes the text Go's `%v` gives it after
//! godbus decodes it, as the reference writes it: `u` 0 → `"0"`, `as` →
//! `"[a b]"`, a struct → `"[f1 f2]"`, a dictionary → `"map[k:v]"`.

use std::collections::BTreeMap;
use std::path::Path;

use aicr_core::error::escape;
use aicr_core::snapshot::{Measurement, MeasurementType, Reading, Subtype};
use aicr_core::{Code, Error, Result};
use zbus::{OwnedVariant, Variant};

use crate::Outcome;
use crate::gofmt::go_float;
use crate::subtype;

/// Where systemd listens for peer-to-peer D-Bus connections (root only).
pub const PRIVATE_SOCKET: &str = "/run/systemd/private";

/// The units the reference reads by default.
pub const DEFAULT_SERVICES: [&str; 3] = ["containerd.service", "docker.service", "kubelet.service"];

/// The unit read when the list of services is empty, as in the reference.
const FALLBACK_SERVICE: &str = "containerd.service";

/// Properties left out: machine-specific (CPU and memory node sets, BPF
/// program ids, the bus name, the unit's own name) or secret-bearing
/// (every key containing `Credential`).
const DROPPED: [&str; 6] = [
    "AllowedCPUs",
    "AllowedMemoryNodes",
    "Asserts",
    "BPFProgram",
    "BusName",
    "Id",
];

const HINT: &str = "reading systemd needs root: run as root or through the snapshot agent";

/// Reads the properties of `services` (when empty, the reference's
/// fallback `containerd.service`; [`DEFAULT_SERVICES`] is its usual list)
/// from the systemd listening on `socket` ([`PRIVATE_SOCKET`] on a host),
/// as a SystemD measurement with one subtype per service, in the order
/// given.
///
/// No socket at `socket` is [`Outcome::Absent`]: systemd is not there to
/// ask (a container without the host's `/run/systemd`, a host without
/// systemd). A socket that cannot be used is an error: permission denied
/// is UNAUTHORIZED, a refused connection or failed handshake
/// SERVICE_UNAVAILABLE, a failing or malformed `GetAll` INTERNAL
/// (UNAUTHORIZED when systemd denies access). A unit systemd does not know
/// is data, not an error: systemd reports it with `LoadState: not-found`.
///
/// There is no deadline here: the caller bounds the whole call.
pub async fn collect(socket: &Path, services: &[&str]) -> Result<Outcome> {
    let shown = escape(&socket.display().to_string());
    let stream = match tokio::net::UnixStream::connect(socket).await {
        Ok(stream) => stream,
        Err(e) if is_absent(&e) => {
            return Ok(Outcome::Absent(format!("no systemd socket at {shown}")));
        }
        Err(e) => return Err(io_error(&shown, e)),
    };
    let stream = stream.into_std().map_err(|e| io_error(&shown, e))?;
    let connection = zbus::connection::Builder::unix_stream(stream)
        .p2p()
        .build()
        .await
        .map_err(|e| dbus_error(e, &format!("cannot open a D-Bus connection to {shown}")))?;
    let services = if services.is_empty() {
        &[FALLBACK_SERVICE][..]
    } else {
        services
    };
    let mut subtypes = Vec::with_capacity(services.len());
    for service in services {
        let properties = get_all(&connection, service).await.map_err(|e| {
            let what = format!("reading the properties of {} from {shown}", escape(service));
            dbus_error(e, &what)
        })?;
        subtypes.push(unit_subtype(service, &properties));
    }
    Ok(Outcome::Collected(Measurement {
        kind: MeasurementType::SystemD,
        subtypes,
    }))
}

/// `org.freedesktop.DBus.Properties.GetAll` with an empty interface name
/// on the unit's object: systemd answers with the properties of every
/// interface the unit has (Unit and Service), as the reference asks.
async fn get_all(
    connection: &zbus::Connection,
    unit: &str,
) -> zbus::Result<BTreeMap<String, OwnedVariant>> {
    let reply = connection
        .call_method(
            Some("org.freedesktop.systemd1"),
            unit_path(unit).as_str(),
            Some("org.freedesktop.DBus.Properties"),
            "GetAll",
            &"",
        )
        .await?;
    reply.body().deserialize()
}

/// Whether a connect error means there is nothing at the path.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// The error for a socket that exists but cannot be used.
fn io_error(shown: &str, e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => Error::new(
            Code::Unauthorized,
            format!("cannot connect to systemd at {shown}: permission denied; {HINT}"),
        ),
        std::io::ErrorKind::ConnectionRefused => Error::new(
            Code::ServiceUnavailable,
            format!("systemd does not accept connections at {shown}"),
        ),
        _ => Error::new(
            Code::ServiceUnavailable,
            format!("cannot connect to systemd at {shown}"),
        ),
    }
    .with_source(e)
}

/// A D-Bus failure as our error, with `what` was being done.
fn dbus_error(e: zbus::Error, what: &str) -> Error {
    let code = match &e {
        zbus::Error::InputOutput(io) => match io.kind() {
            std::io::ErrorKind::PermissionDenied => Code::Unauthorized,
            _ => Code::ServiceUnavailable,
        },
        zbus::Error::Handshake(_) => Code::ServiceUnavailable,
        zbus::Error::FDO(fdo) if matches!(**fdo, zbus::fdo::Error::AccessDenied(_)) => {
            Code::Unauthorized
        }
        _ => Code::Internal,
    };
    let message = if code == Code::Unauthorized {
        format!("{what}: {HINT}")
    } else {
        what.to_string()
    };
    Error::new(code, message).with_source(e)
}

/// The object path of a unit: `/org/freedesktop/systemd1/unit/` and the
/// name with every byte other than an ASCII letter or digit (and a leading
/// digit) written as `_xx` in hex, systemd's own escaping
/// (`containerd.service` → `containerd_2eservice`).
pub fn unit_path(unit: &str) -> String {
    let mut path = String::from("/org/freedesktop/systemd1/unit/");
    if unit.is_empty() {
        path.push('_');
    }
    for (i, byte) in unit.bytes().enumerate() {
        if byte.is_ascii_alphabetic() || (i > 0 && byte.is_ascii_digit()) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("_{byte:02x}"));
        }
    }
    path
}

/// Whether a property is left out of the snapshot.
pub fn is_dropped(key: &str) -> bool {
    DROPPED.contains(&key) || key.contains("Credential")
}

/// A unit's subtype from its properties: each converted by [`reading`],
/// the [`is_dropped`] ones left out.
pub fn unit_subtype(unit: &str, properties: &BTreeMap<String, OwnedVariant>) -> Subtype {
    let data = properties
        .iter()
        .filter(|(key, _)| !is_dropped(key))
        .map(|(key, value)| (key.clone(), reading(value)))
        .collect();
    subtype(unit, data)
}

/// A D-Bus value as a reading: strings, booleans, 64-bit integers and
/// doubles as themselves; everything else as its Go `%v` text.
pub fn reading(value: &Variant<'_>) -> Reading {
    match value {
        Variant::Str(s) => Reading::Str(s.to_string()),
        Variant::Bool(b) => Reading::Bool(*b),
        Variant::I64(n) => Reading::Int(*n),
        Variant::U64(n) => i64::try_from(*n).map_or(Reading::Uint(*n), Reading::Int),
        Variant::F64(x) => Reading::Float(*x),
        other => Reading::Str(go_text(other)),
    }
}

/// Go's `%v` of the value godbus decodes: numbers in decimal, strings,
/// object paths and signatures bare, arrays and structs as `[a b]`,
/// dictionaries as `map[k:v]` sorted by key, a nested variant as godbus
/// prints one (`"text"`, `@u 5`).
fn go_text(value: &Variant<'_>) -> String {
    match value {
        Variant::U8(n) => n.to_string(),
        Variant::Bool(b) => b.to_string(),
        Variant::I16(n) => n.to_string(),
        Variant::U16(n) => n.to_string(),
        Variant::I32(n) => n.to_string(),
        Variant::U32(n) => n.to_string(),
        Variant::I64(n) => n.to_string(),
        Variant::U64(n) => n.to_string(),
        Variant::F64(x) => go_float(*x),
        Variant::Str(s) => s.to_string(),
        Variant::Signature(s) => s.to_string(),
        Variant::ObjectPath(p) => p.as_str().to_string(),
        Variant::Variant(inner) => variant_text(inner),
        Variant::Array(items) => list(items.inner().iter().map(go_text)),
        Variant::Structure(fields) => list(fields.fields().iter().map(go_text)),
        Variant::Dict(dict) => {
            let mut entries: Vec<_> = dict.iter().collect();
            entries.sort_by(|a, b| compare_keys(a.0, b.0));
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", go_text(k), go_text(v)))
                .collect();
            format!("map[{}]", entries.join(" "))
        }
        Variant::Fd(fd) => fd.to_string(),
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(" "))
}

/// Go prints a map's keys in order: numbers by value, strings by bytes.
fn compare_keys(a: &Variant<'_>, b: &Variant<'_>) -> std::cmp::Ordering {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => go_text(a).cmp(&go_text(b)),
    }
}

fn number(value: &Variant<'_>) -> Option<f64> {
    Some(match value {
        Variant::U8(n) => f64::from(*n),
        Variant::I16(n) => f64::from(*n),
        Variant::U16(n) => f64::from(*n),
        Variant::I32(n) => f64::from(*n),
        Variant::U32(n) => f64::from(*n),
        Variant::I64(n) => *n as f64,
        Variant::U64(n) => *n as f64,
        Variant::F64(x) => *x,
        _ => return None,
    })
}

/// A variant as godbus's `Variant.String()` prints it: GVariant text, with
/// `@<signature> ` before a value whose type the text leaves open.
fn variant_text(value: &Variant<'_>) -> String {
    let (text, unambiguous) = gvariant(value);
    if unambiguous {
        text
    } else {
        format!("@{} {text}", value.value_signature())
    }
}

/// GVariant text and whether it shows its type. Only basic values are
/// expected inside systemd's unit properties; containers follow godbus's
/// rules as far as zbus keeps the types.
fn gvariant(value: &Variant<'_>) -> (String, bool) {
    match value {
        Variant::Bool(_) | Variant::I32(_) => (go_text(value), true),
        Variant::U8(n) => (format!("{n:#x}"), false),
        Variant::Str(s) => (quote(s), true),
        Variant::ObjectPath(p) => (quote(p.as_str()), false),
        Variant::Signature(s) => (quote(&s.to_string()), false),
        Variant::Variant(inner) => {
            let (text, unambiguous) = gvariant(inner);
            if unambiguous {
                (format!("<{text}>"), true)
            } else {
                let sig = inner.value_signature();
                (format!("<@{sig} {text}>"), true)
            }
        }
        Variant::Array(items) => joined(items.inner().iter().map(gvariant), "[", "]", ", "),
        Variant::Structure(fields) if fields.fields().is_empty() => ("()".into(), false),
        Variant::Structure(fields) => {
            // godbus ends every field with a comma: `(1, 2,)`.
            let fields = fields.fields().iter().map(|field| {
                let (text, unambiguous) = gvariant(field);
                (format!("{text},"), unambiguous)
            });
            joined(fields, "(", ")", " ")
        }
        Variant::Dict(dict) => {
            let mut unambiguous = true;
            let mut entries: Vec<String> = dict
                .iter()
                .map(|(k, v)| {
                    let (k, k_unambiguous) = gvariant(k);
                    let (v, v_unambiguous) = gvariant(v);
                    unambiguous &= k_unambiguous && v_unambiguous;
                    format!("{k}: {v}")
                })
                .collect();
            if entries.is_empty() {
                return ("{}".into(), false);
            }
            entries.sort();
            (format!("{{{}}}", entries.join(", ")), unambiguous)
        }
        _ => (go_text(value), false),
    }
}

fn joined(
    parts: impl Iterator<Item = (String, bool)>,
    open: &str,
    close: &str,
    separator: &str,
) -> (String, bool) {
    let mut unambiguous = true;
    let texts: Vec<String> = parts
        .map(|(text, u)| {
            unambiguous &= u;
            text
        })
        .collect();
    if texts.is_empty() {
        return (format!("{open}{close}"), false);
    }
    (
        format!("{open}{}{close}", texts.join(separator)),
        unambiguous,
    )
}

/// A Go-quoted string (`strconv.Quote`), close enough for unit
/// properties: `"`, `\` and control characters escaped.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error as IoError, ErrorKind};

    // The tests run as root, which no socket refuses, so the permission
    // case is checked on the mapping itself.
    #[test]
    fn connect_errors_map_to_codes_with_a_hint_for_permission() {
        let denied = io_error(
            "/run/systemd/private",
            IoError::from(ErrorKind::PermissionDenied),
        );
        assert_eq!(denied.code(), Code::Unauthorized);
        assert!(denied.to_string().contains("run as root"), "{denied}");
        let refused = io_error("p", IoError::from(ErrorKind::ConnectionRefused));
        assert_eq!(refused.code(), Code::ServiceUnavailable);
        let other = io_error("p", IoError::other("boom"));
        assert_eq!(other.code(), Code::ServiceUnavailable);
        let io = zbus::Error::InputOutput(IoError::from(ErrorKind::PermissionDenied).into());
        assert_eq!(dbus_error(io, "x").code(), Code::Unauthorized);
        assert!(is_absent(&IoError::from(ErrorKind::NotFound)));
        assert!(!is_absent(&IoError::from(ErrorKind::PermissionDenied)));
    }
}

//! The GPU measurement's sources as pure functions: `nvidia-smi -q -x`
//! output to the `smi` subtype, and PCI devices plus `/proc/modules` to the
//! `hardware` subtype (GPUs seen before any driver is installed).
//!
//! The reference degrades every failure to a zero-GPU `smi` subtype; here
//! a document that is not XML is an error, and the caller decides whether
//! to record the failing source or fall back to [`smi_without_gpus`].

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use aicr_core::error::escape;
use aicr_core::snapshot::{Measurement, MeasurementType, Reading, SourceStatus, Subtype};
use aicr_core::{Code, Error, Result};
use quick_xml::Reader;
use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};

use crate::os::loaded_modules;
use crate::run::{BoxFuture, Collected, Host, Options, blocking, status};
use crate::source::read_text;

/// Name of the subtype read from `nvidia-smi -q -x`.
pub const SMI: &str = "smi";
/// Name of the subtype read from PCI enumeration and `/proc/modules`.
pub const HARDWARE: &str = "hardware";

/// The children of the first `<gpu>` that become readings, and their keys.
const GPU_FIELDS: [(&str, &str); 8] = [
    ("product_name", "gpu.model"),
    ("product_architecture", "gpu.product-architecture"),
    ("display_mode", "gpu.display-mode"),
    ("display_active", "gpu.display-active"),
    ("persistence_mode", "gpu.persistence-mode"),
    ("addressing_mode", "gpu.addressing-mode"),
    ("vbios_version", "gpu.vbios-version"),
    ("gsp_firmware_version", "gpu.gsp-firmware-version"),
];

/// The `smi` subtype of `nvidia-smi -q -x` output.
///
/// Readings: `driver` and `cuda-version` (the root's `driver_version` and
/// `cuda_version` text), `gpu-count` (the number of `<gpu>` children of
/// the root, not `attached_gpus`) and, when there is a GPU, the eight
/// `gpu.*` readings of the first one. An element's text is its own
/// character data, untrimmed; a missing element reads `""`. As in the
/// reference, the root's name is not checked, so well-formed XML of
/// another kind gives empty strings and no GPU.
///
/// Input that is not well-formed XML (or not UTF-8, or with an
/// `attached_gpus` that is not an integer, which the reference's decoder
/// also refuses) is INVALID_REQUEST.
pub fn parse_nvidia_smi(xml: &[u8]) -> Result<Subtype> {
    let text = std::str::from_utf8(xml)
        .map_err(|e| Error::invalid("nvidia-smi XML is not valid UTF-8").with_source(e))?;
    Ok(SmiLog::read(text)?.into_subtype())
}

/// The `smi` subtype when nvidia-smi is missing or fails: `gpu-count: 0`
/// and nothing else, as the reference records it.
pub fn smi_without_gpus() -> Subtype {
    subtype(SMI, [("gpu-count", Reading::Int(0))])
}

fn subtype<const N: usize>(name: &str, data: [(&str, Reading); N]) -> Subtype {
    Subtype {
        name: name.to_string(),
        data: data.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        context: BTreeMap::new(),
    }
}

/// What `nvidia-smi -q -x` says that becomes readings.
#[derive(Default)]
struct SmiLog {
    driver: String,
    cuda: String,
    gpus: i64,
    first_gpu: [String; GPU_FIELDS.len()],
}

/// Where the reader is: what an element's text is for.
#[derive(Clone, Copy)]
enum Frame {
    Root,
    Gpu { first: bool },
    Capture(Field),
    Other,
}

#[derive(Clone, Copy)]
enum Field {
    Driver,
    Cuda,
    AttachedGpus,
    Gpu(usize),
}

impl SmiLog {
    fn read(text: &str) -> Result<SmiLog> {
        let mut reader = Reader::from_str(text);
        let mut log = SmiLog::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut captured = String::new();
        loop {
            let event = reader.read_event().map_err(|e| {
                let at = reader.error_position();
                Error::invalid(format!("nvidia-smi XML is not well-formed at byte {at}"))
                    .with_source(e)
            })?;
            let capturing = matches!(stack.last(), Some(Frame::Capture(_)));
            match event {
                Event::Start(e) => {
                    check_attributes(&e)?;
                    let frame = log.open(stack.last().copied(), &e);
                    if let Frame::Capture(_) = frame {
                        captured.clear();
                    }
                    stack.push(frame);
                }
                Event::Empty(e) => {
                    check_attributes(&e)?;
                    if let Frame::Capture(field) = log.open(stack.last().copied(), &e) {
                        log.set(field, String::new())?;
                    }
                    if stack.is_empty() {
                        return Ok(log);
                    }
                }
                Event::End(_) => {
                    if let Some(Frame::Capture(field)) = stack.pop() {
                        log.set(field, std::mem::take(&mut captured))?;
                    }
                    if stack.is_empty() {
                        // The reference stops reading at the root's end.
                        return Ok(log);
                    }
                }
                Event::Text(t) => push_text(&mut captured, capturing, &t.xml10_content())?,
                Event::CData(t) => push_text(&mut captured, capturing, &t.xml10_content())?,
                Event::GeneralRef(r) => push_text(&mut captured, capturing, &resolve(&r)?)?,
                Event::Decl(d) => check_declaration(&d)?,
                Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => {
                    return Err(Error::invalid(if stack.is_empty() {
                        "nvidia-smi XML has no root element"
                    } else {
                        "nvidia-smi XML ends before its root element is closed"
                    }));
                }
            }
        }
    }

    /// The frame of an element opened under `parent`.
    fn open(&mut self, parent: Option<Frame>, element: &BytesStart<'_>) -> Frame {
        let name = element.local_name();
        let name = name.as_ref();
        match parent {
            None => Frame::Root,
            Some(Frame::Root) => match name {
                "driver_version" => Frame::Capture(Field::Driver),
                "cuda_version" => Frame::Capture(Field::Cuda),
                "attached_gpus" => Frame::Capture(Field::AttachedGpus),
                "gpu" => {
                    self.gpus += 1;
                    Frame::Gpu {
                        first: self.gpus == 1,
                    }
                }
                _ => Frame::Other,
            },
            Some(Frame::Gpu { first: true }) => GPU_FIELDS
                .iter()
                .position(|(element, _)| *element == name)
                .map_or(Frame::Other, |i| Frame::Capture(Field::Gpu(i))),
            Some(_) => Frame::Other,
        }
    }

    /// Stores an element's text; a repeated element replaces the earlier
    /// one, as Go's decoder does.
    fn set(&mut self, field: Field, text: String) -> Result<()> {
        match field {
            Field::Driver => self.driver = text,
            Field::Cuda => self.cuda = text,
            Field::AttachedGpus => check_integer(&text)?,
            Field::Gpu(i) => self.first_gpu[i] = text,
        }
        Ok(())
    }

    fn into_subtype(self) -> Subtype {
        let mut out = subtype(
            SMI,
            [
                ("driver", Reading::Str(self.driver)),
                ("cuda-version", Reading::Str(self.cuda)),
                ("gpu-count", Reading::Int(self.gpus)),
            ],
        );
        if self.gpus > 0 {
            for ((_, key), value) in GPU_FIELDS.iter().zip(self.first_gpu) {
                out.data.insert(key.to_string(), Reading::Str(value));
            }
        }
        out
    }
}

/// `attached_gpus` is unused, but the reference decodes it into an `int`
/// and fails the whole document when that fails: empty is 0, anything
/// else must be a decimal integer once trimmed.
fn check_integer(text: &str) -> Result<()> {
    if text.is_empty() || text.trim().parse::<i64>().is_ok() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "nvidia-smi XML: attached_gpus {:?} is not an integer",
            aicr_core::error::escape(text)
        )))
    }
}

fn push_text(captured: &mut String, capturing: bool, text: &str) -> Result<()> {
    check_chars(text)?;
    if capturing {
        captured.push_str(text);
    }
    Ok(())
}

/// XML 1.0's `Char` production, which Go's decoder enforces: no control
/// characters other than tab, line feed and carriage return.
fn check_chars(text: &str) -> Result<()> {
    let legal = |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..);
    match text.chars().find(|&c| !legal(c)) {
        None => Ok(()),
        Some(c) => Err(Error::invalid(format!(
            "nvidia-smi XML holds the illegal character U+{:04X}",
            u32::from(c)
        ))),
    }
}

/// The text of `&name;`: a character reference or one of the five
/// predefined entities (the only ones a document without a DTD may use).
fn resolve(reference: &BytesRef<'_>) -> Result<String> {
    let unknown = || {
        Error::invalid(format!(
            "nvidia-smi XML uses the unknown entity &{};",
            aicr_core::error::escape(reference)
        ))
    };
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Ok(c.to_string()),
        Ok(None) => quick_xml::escape::resolve_predefined_entity(reference)
            .map(str::to_string)
            .ok_or_else(unknown),
        Err(e) => Err(unknown().with_source(e)),
    }
}

/// Attributes are not read, but a malformed one makes the document
/// malformed.
fn check_attributes(element: &BytesStart<'_>) -> Result<()> {
    for attribute in element.attributes() {
        let value = attribute
            .map_err(|e| Error::invalid("nvidia-smi XML has a malformed attribute").with_source(e))?
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| {
                Error::invalid("nvidia-smi XML has a malformed attribute value").with_source(e)
            })?;
        check_chars(&value)?;
    }
    Ok(())
}

/// Go's decoder accepts XML 1.0 in UTF-8 only (it has no charset reader).
fn check_declaration(decl: &BytesDecl<'_>) -> Result<()> {
    let version = decl
        .version()
        .map_err(|e| Error::invalid("nvidia-smi XML has a malformed declaration").with_source(e))?;
    if version != "1.0" {
        return Err(Error::invalid(format!(
            "nvidia-smi XML declares version {:?}; only 1.0 is read",
            aicr_core::error::escape(&version)
        )));
    }
    if let Some(encoding) = decl.encoding() {
        let encoding = encoding.map_err(|e| {
            Error::invalid("nvidia-smi XML has a malformed declaration").with_source(e)
        })?;
        if !encoding.eq_ignore_ascii_case("utf-8") {
            return Err(Error::invalid(format!(
                "nvidia-smi XML declares encoding {:?}; only UTF-8 is read",
                aicr_core::error::escape(&encoding)
            )));
        }
    }
    Ok(())
}

/// NVIDIA's PCI vendor id.
const NVIDIA_VENDOR: &str = "10de";
/// PCI classes of GPUs: VGA controller, 3D controller.
const GPU_CLASSES: [&str; 2] = ["0300", "0302"];

/// One PCI device, as the hardware probe sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDevice {
    /// Vendor id: four lower-case hex digits (`10de`).
    pub vendor: String,
    /// Base class and subclass: four lower-case hex digits (`0302`).
    pub class: String,
}

impl PciDevice {
    /// A device from sysfs's `vendor` and `class` text (`0x10de\n`,
    /// `0x030200\n`): trimmed, `0x` removed, lower-cased, and the class cut
    /// to its first four digits (the programming interface dropped).
    pub fn from_sysfs(vendor: &str, class: &str) -> PciDevice {
        let hex = |text: &str| {
            let text = text.trim();
            text.strip_prefix("0x").unwrap_or(text).to_ascii_lowercase()
        };
        let class = hex(class);
        PciDevice {
            vendor: hex(vendor),
            class: class.get(..4).unwrap_or(&class).to_string(),
        }
    }

    /// Whether this is an NVIDIA display or 3D controller.
    pub fn is_nvidia_gpu(&self) -> bool {
        self.vendor == NVIDIA_VENDOR && GPU_CLASSES.contains(&self.class.as_str())
    }
}

/// The `hardware` subtype: NVIDIA GPUs among `devices` and whether the
/// `nvidia` module is in `proc_modules` (the text of `/proc/modules`; pass
/// `""` when it could not be read, as the reference only logs that).
///
/// Readings: `gpu-present` (bool), `gpu-count` (int), `driver-loaded`
/// (bool), `detection-source` (`nfd`, the reference's name for this probe).
pub fn hardware_subtype(devices: &[PciDevice], proc_modules: &str) -> Subtype {
    let count = devices.iter().filter(|d| d.is_nvidia_gpu()).count();
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let driver_loaded = loaded_modules(proc_modules).any(|name| name == "nvidia");
    subtype(
        HARDWARE,
        [
            ("gpu-present", Reading::Bool(count > 0)),
            ("gpu-count", Reading::Int(count)),
            ("driver-loaded", Reading::Bool(driver_loaded)),
            ("detection-source", Reading::Str("nfd".to_string())),
        ],
    )
}

/// The files every device must have to be counted (as in the reference,
/// a device missing one is skipped).
const PCI_ATTRIBUTES: [&str; 5] = [
    "vendor",
    "class",
    "device",
    "subsystem_vendor",
    "subsystem_device",
];

/// The PCI devices under `<sysfs>/bus/pci/devices` (pass `/sys`, or a
/// copy of its layout in tests), in name order.
///
/// A directory that cannot be listed is an error (the probe failed); a
/// device missing one of `vendor`, `class`, `device`, `subsystem_vendor`
/// or `subsystem_device`, or whose file cannot be read, is skipped. The
/// entries of a real sysfs are links into `/sys/devices`, so they are
/// followed.
pub fn read_pci_devices(sysfs: &Path) -> Result<Vec<PciDevice>> {
    let dir = sysfs.join("bus/pci/devices");
    let shown = aicr_core::error::escape(&dir.display().to_string());
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        let code = match e.kind() {
            std::io::ErrorKind::NotFound => Code::NotFound,
            _ => Code::Internal,
        };
        Error::new(code, format!("cannot list PCI devices in {shown}")).with_source(e)
    })?;
    let mut names: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    Ok(names
        .iter()
        .filter_map(|name| read_pci_device(&dir.join(name)))
        .collect())
}

fn read_pci_device(device: &Path) -> Option<PciDevice> {
    let [vendor, class, rest @ ..] = PCI_ATTRIBUTES.map(|file| read_text(&device.join(file)).ok());
    if rest.iter().any(Option::is_none) {
        return None;
    }
    Some(PciDevice::from_sysfs(&vendor?, &class?))
}

/// The GPU collector: `hardware` from PCI enumeration (absent when the
/// host has no `/sys/bus/pci/devices`), then `smi` from `nvidia-smi -q -x`
/// (absent when it is not on `PATH`, and then `gpu-count: 0` as in the
/// reference). An `nvidia-smi` that fails or prints something that is not
/// its XML fails the snapshot: a node with a broken driver is not a node
/// without GPUs.
pub struct Collector;

impl crate::run::Collector for Collector {
    fn kind(&self) -> MeasurementType {
        MeasurementType::Gpu
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn collect(&self, options: Arc<Options>) -> BoxFuture<Result<Collected>> {
        Box::pin(async move {
            let host = options.host.clone();
            let hardware = blocking(move || read_hardware(&host)).await;
            let (hardware, hardware_status) = status("GPU/hardware", hardware)?;
            let (smi, smi_status) = match find_program("nvidia-smi", options.path.as_deref()) {
                Some(program) => (
                    run_nvidia_smi(&program).await?,
                    SourceStatus::collected("GPU/smi"),
                ),
                None => (
                    smi_without_gpus(),
                    SourceStatus::absent("GPU/smi", "nvidia-smi is not on PATH"),
                ),
            };
            Ok(Collected {
                measurement: Measurement {
                    kind: MeasurementType::Gpu,
                    subtypes: hardware.into_iter().chain([smi]).collect(),
                },
                sources: vec![hardware_status, smi_status],
            })
        })
    }
}

/// The `hardware` subtype of the host: its PCI devices, and whether the
/// `nvidia` module is loaded (not loaded when `/proc/modules` is missing).
fn read_hardware(host: &Host) -> Result<Subtype> {
    let devices = read_pci_devices(&host.path("/sys"))?;
    let modules = match read_text(&host.path("/proc/modules")) {
        Err(e) if e.code() == Code::NotFound => String::new(),
        modules => modules?,
    };
    Ok(hardware_subtype(&devices, &modules))
}

/// The first executable file named `name` in the directories of `path`.
/// Empty entries are skipped rather than read as the current directory.
fn find_program(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Most `nvidia-smi -q -x` output read (an 8-GPU node prints about 150 KiB).
const MAX_SMI_BYTES: usize = 16 * 1024 * 1024;

/// Runs `nvidia-smi -q -x` and parses what it prints. The child is killed
/// if the collector is cancelled or runs out of time.
async fn run_nvidia_smi(program: &Path) -> Result<Subtype> {
    let shown = escape(&program.display().to_string());
    // aicr-collect is the crate that runs node tools; nothing else spawns.
    let output = tokio::process::Command::new(program)
        .args(["-q", "-x"])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::internal(format!("cannot run {shown}")).with_source(e))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(if output.stderr.is_empty() {
            &output.stdout
        } else {
            &output.stderr
        });
        let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(Error::internal(format!(
            "{shown} -q -x failed ({}): {}",
            output.status,
            escape(said.trim())
        )));
    }
    if output.stdout.len() > MAX_SMI_BYTES {
        return Err(Error::invalid(format!(
            "{shown} -q -x printed more than {MAX_SMI_BYTES} bytes"
        )));
    }
    parse_nvidia_smi(&output.stdout).map_err(|e| e.context(format!("reading {shown} -q -x")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_text_is_kept_untrimmed_with_entities_and_cdata() {
        let xml = b"<log><driver_version> 1 &amp; <![CDATA[<2>]]>&#x33;<x>no</x>\r\n</driver_version></log>";
        let smi = parse_nvidia_smi(xml).unwrap();
        assert_eq!(smi.data["driver"], Reading::from(" 1 & <2>3\n"));
    }

    #[test]
    fn a_repeated_element_keeps_the_last_text() {
        let xml = b"<log><cuda_version>1</cuda_version><cuda_version>2</cuda_version></log>";
        assert_eq!(
            parse_nvidia_smi(xml).unwrap().data["cuda-version"],
            Reading::from("2")
        );
    }

    #[test]
    fn only_direct_children_of_the_root_count_as_gpus() {
        let xml = b"<log><x><gpu/></x><gpu><product_name>A</product_name></gpu><gpu/></log>";
        let smi = parse_nvidia_smi(xml).unwrap();
        assert_eq!(smi.data["gpu-count"], Reading::Int(2));
        assert_eq!(smi.data["gpu.model"], Reading::from("A"));
    }

    #[test]
    fn malformed_documents_are_invalid_requests() {
        for xml in [
            &b"<log>&nbsp;</log>"[..],
            b"<log a=1></log>",
            b"<log>\x01</log>",
            b"<log></other>",
            b"<log>\xff</log>",
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><log/>",
            b"<log><attached_gpus>eight</attached_gpus></log>",
        ] {
            let err = parse_nvidia_smi(xml).unwrap_err();
            assert_eq!(
                err.code(),
                Code::InvalidRequest,
                "{}",
                String::from_utf8_lossy(xml)
            );
        }
    }

    #[test]
    fn attached_gpus_may_be_empty_or_padded() {
        for xml in [
            &b"<log><attached_gpus/></log>"[..],
            b"<log><attached_gpus> 8 </attached_gpus></log>",
        ] {
            assert!(parse_nvidia_smi(xml).is_ok());
        }
    }

    #[test]
    fn pci_ids_are_normalised_from_sysfs_text() {
        let device = PciDevice::from_sysfs("0x10DE\n", "0x030200\n");
        assert_eq!(device.vendor, "10de");
        assert_eq!(device.class, "0302");
        assert!(device.is_nvidia_gpu());
        assert_eq!(PciDevice::from_sysfs("", "0x03").class, "03");
    }
}

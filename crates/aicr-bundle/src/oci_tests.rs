use std::io::Write;

use super::*;
use aicr_core::Code;

fn sample() -> FileTree {
    let mut tree = FileTree::new();
    tree.insert("b/values.yaml", "a: 1\n");
    tree.insert_executable("deploy.sh", "#!/bin/sh\n");
    tree.insert("b/c/x.yaml", "x\n");
    tree.insert(format!("{}/long.yaml", "d".repeat(120)), "long path\n");
    crate::checksum::add_checksums(&mut tree);
    tree
}

#[test]
fn packing_the_same_tree_twice_gives_the_same_bytes_and_digest() {
    let a = pack(&sample(), "v1.2.3").unwrap();
    let b = pack(&sample(), "v1.2.3").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.manifest_digest, digest(&a.manifest));
    assert_eq!(a.layer_digest, digest(&a.layer));
    // A different tree is a different artifact.
    let mut other = sample();
    other.insert("b/values.yaml", "a: 2\n");
    assert_ne!(pack(&other, "v1.2.3").unwrap().layer_digest, a.layer_digest);
}

#[test]
fn unpacking_and_repacking_gives_the_same_tree_and_layer() {
    let a = pack(&sample(), "v1").unwrap();
    let tree = unpack(&a.layer).unwrap();
    assert_eq!(tree, sample());
    assert!(tree.get("deploy.sh").unwrap().executable);
    assert_eq!(pack(&tree, "v1").unwrap(), a);
}

#[test]
fn the_manifest_is_an_oci_1_1_artifact_with_a_fixed_creation_time() {
    let a = pack(&sample(), "v9").unwrap();
    let m: serde_json::Value = serde_json::from_slice(&a.manifest).unwrap();
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(m["artifactType"], ARTIFACT_TYPE);
    assert_eq!(m["config"]["mediaType"], EMPTY_MEDIA_TYPE);
    assert_eq!(
        m["config"]["digest"],
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(m["layers"][0]["mediaType"], LAYER_MEDIA_TYPE);
    assert_eq!(m["layers"][0]["digest"], a.layer_digest.as_str());
    assert_eq!(m["layers"][0]["size"], a.layer.len());
    assert_eq!(
        m["annotations"]["org.opencontainers.image.created"],
        CREATED
    );
    assert_eq!(m["annotations"]["org.opencontainers.image.version"], "v9");
    // Compact JSON: no whitespace a serialiser could vary.
    assert!(!a.manifest.contains(&b'\n') && !a.manifest.windows(2).any(|w| w == b": "));
}

#[test]
fn tar_headers_carry_nothing_of_the_machine() {
    let a = pack(&sample(), "v1").unwrap();
    assert_eq!(&a.layer[4..8], &[0, 0, 0, 0], "gzip mtime");
    assert_eq!(a.layer[9], 255, "gzip OS byte");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.layer.as_slice()));
    let mut names = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(h.mtime().unwrap(), 0);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.username().unwrap(), Some(""));
        assert_eq!(h.groupname().unwrap(), Some(""));
        let mode = h.mode().unwrap();
        let path = entry.path().unwrap().display().to_string();
        let want = if path.ends_with('/') || path == "deploy.sh" {
            0o755
        } else {
            0o644
        };
        assert_eq!(mode, want, "{path}");
        names.push(path);
    }
    assert_eq!(
        names[..5],
        ["b/", "b/c/", "b/c/x.yaml", "b/values.yaml", "checksums.txt"]
    );
}

/// A tar.gz with one entry whose name bytes are written raw (the tar
/// crate's own setters refuse `..` and absolute paths).
fn hostile(name: &[u8], kind: tar::EntryType, body: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(body.len() as u64);
    if kind == tar::EntryType::Symlink {
        header.set_link_name("/etc/passwd").unwrap();
    }
    header.set_cksum();
    gz_tar(|tar| tar.append(&header, body).unwrap())
}

fn gz_tar(fill: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    fill(&mut tar);
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

fn refused(layer: &[u8], limits: &Limits) -> String {
    let err = unpack_with(layer, limits).unwrap_err();
    assert_eq!(err.code(), Code::InvalidRequest, "{err}");
    err.to_string()
}

#[test]
fn links_devices_and_escaping_paths_are_refused() {
    let limits = Limits::default();
    let symlink = hostile(b"link", tar::EntryType::Symlink, b"");
    assert!(refused(&symlink, &limits).contains("not a regular file"));
    let hard = hostile(b"hard", tar::EntryType::Link, b"");
    assert!(refused(&hard, &limits).contains("not a regular file"));
    let fifo = hostile(b"fifo", tar::EntryType::Fifo, b"");
    assert!(refused(&fifo, &limits).contains("not a regular file"));
    for name in [
        &b"../evil"[..],
        b"a/../../evil",
        b"/etc/evil",
        b"a//b",
        b"./",
        b"a/./b",
    ] {
        let layer = hostile(name, tar::EntryType::Regular, b"x");
        assert!(refused(&layer, &limits).contains("unsafe path"), "{name:?}");
    }
    // A leading ./ (tar -C dir .) is fine.
    let dotted = hostile(b"./ok.yaml", tar::EntryType::Regular, b"x");
    assert!(unpack(&dotted).unwrap().get("ok.yaml").is_some());
}

#[test]
fn oversized_and_overfull_layers_are_refused() {
    let small = Limits {
        entries: 3,
        file_bytes: 10,
        total_bytes: 15,
    };
    let big = hostile(b"big", tar::EntryType::Regular, &[b'a'; 11]);
    assert!(refused(&big, &small).contains("limit per file"));
    let many = gz_tar(|tar| {
        for i in 0..4 {
            let mut h = header(tar::EntryType::Regular, 0o644, 1);
            tar.append_data(&mut h, format!("f{i}"), &b"x"[..]).unwrap();
        }
    });
    assert!(refused(&many, &small).contains("more than 3 entries"));
    let total = gz_tar(|tar| {
        for i in 0..2 {
            let mut h = header(tar::EntryType::Regular, 0o644, 8);
            tar.append_data(&mut h, format!("f{i}"), &[b'x'; 8][..])
                .unwrap();
        }
    });
    assert!(refused(&total, &small).contains("unpacks to more than 15 bytes"));
    // A header that claims a huge size is refused before anything is read.
    let mut h = tar::Header::new_gnu();
    h.set_path("huge").unwrap();
    h.set_size(1 << 40);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut raw = h.as_bytes().to_vec();
    raw.extend_from_slice(&[0; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let lying = gz.finish().unwrap();
    assert!(refused(&lying, &Limits::default()).contains("limit per file"));
}

#[test]
fn duplicates_files_under_files_and_garbage_are_refused() {
    let twice = gz_tar(|tar| {
        for _ in 0..2 {
            let mut h = header(tar::EntryType::Regular, 0o644, 1);
            tar.append_data(&mut h, "same", &b"x"[..]).unwrap();
        }
    });
    assert!(refused(&twice, &Limits::default()).contains("twice"));
    let nested = gz_tar(|tar| {
        let mut h = header(tar::EntryType::Regular, 0o644, 1);
        tar.append_data(&mut h, "a", &b"x"[..]).unwrap();
        let mut h = header(tar::EntryType::Regular, 0o644, 1);
        tar.append_data(&mut h, "a/b", &b"x"[..]).unwrap();
    });
    assert!(refused(&nested, &Limits::default()).contains("below the file"));
    assert!(refused(b"not gzip at all", &Limits::default()).contains("not a valid tar.gz"));
}

#[test]
fn our_marker_in_a_layer_is_dropped() {
    let mut tree = sample();
    tree.insert(MARKER_FILE, "marker\n");
    let a = pack(&tree, "v1").unwrap();
    assert_eq!(unpack(&a.layer).unwrap(), sample());
}

#[test]
fn a_layout_holds_every_blob_and_an_index_naming_the_tag() {
    let a = pack(&sample(), "v1").unwrap();
    let tree = layout(&a, "v1").unwrap();
    assert_eq!(
        tree.get("oci-layout").unwrap().bytes,
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index: serde_json::Value =
        serde_json::from_slice(&tree.get("index.json").unwrap().bytes).unwrap();
    assert_eq!(index["manifests"][0]["digest"], a.manifest_digest.as_str());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    for (digest, bytes) in a.blobs() {
        let path = format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
        assert_eq!(tree.get(&path).unwrap().bytes, bytes);
    }
    let manifest = format!("blobs/sha256/{}", &a.manifest_digest[7..]);
    assert_eq!(tree.get(&manifest).unwrap().bytes, a.manifest);
    assert_eq!(layout(&a, "v1").unwrap(), tree);
}

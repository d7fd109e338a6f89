//! The OS sources: `/proc/cmdline` → `grub`, `/proc/modules` → `kmod`,
//! `os-release` → `release`, `/proc/sys` → `sysctl`.

use std::collections::BTreeMap;
use std::path::Path;

use aicr_collect::os::{grub_subtype, kmod_subtype, read_release, read_sysctl, release_subtype};
use aicr_core::Code;
use aicr_core::snapshot::Reading;

use crate::support::{strings, tree};

/// Case 23.
#[test]
fn cmdline_parameters_are_read_without_root() {
    let grub = grub_subtype("BOOT_IMAGE=/boot/vmlinuz ro quiet splash root=/dev/sda1 panic=-1\n");
    assert_eq!(grub.name, "grub");
    assert_eq!(
        grub.data,
        strings(&[
            ("BOOT_IMAGE", "/boot/vmlinuz"),
            ("ro", ""),
            ("quiet", ""),
            ("splash", ""),
            ("panic", "-1"),
        ])
    );
}

/// Case 24.
#[test]
fn every_root_parameter_is_left_out() {
    let grub = grub_subtype("ro root=/dev/sda1 quiet root=UUID=1234-5678");
    assert_eq!(grub.data, strings(&[("ro", ""), ("quiet", "")]));
}

#[test]
fn cmdline_values_keep_later_equals_signs_and_repeated_keys_keep_the_last() {
    let grub = grub_subtype("a=b=c rootfstype=ext4 x=1 x=2");
    assert_eq!(
        grub.data,
        strings(&[("a", "b=c"), ("rootfstype", "ext4"), ("x", "2")])
    );
}

/// Case 25.
#[test]
fn gb200_cmdline_gives_its_twelve_parameters() {
    let grub = grub_subtype(
        "BOOT_IMAGE=/boot/vmlinuz-6.8.0-1028-aws apparmor=1 audit=1 audit_backlog_limit=8192 \
         hugepages=5128 hugepagesz=2M init_on_alloc=0 nokaslr numa_balancing=disable panic=-1 \
         ro security=apparmor",
    );
    assert_eq!(
        grub.data,
        strings(&[
            ("BOOT_IMAGE", "/boot/vmlinuz-6.8.0-1028-aws"),
            ("apparmor", "1"),
            ("audit", "1"),
            ("audit_backlog_limit", "8192"),
            ("hugepages", "5128"),
            ("hugepagesz", "2M"),
            ("init_on_alloc", "0"),
            ("nokaslr", ""),
            ("numa_balancing", "disable"),
            ("panic", "-1"),
            ("ro", ""),
            ("security", "apparmor"),
        ])
    );
}

/// A `/proc/sys` tree with `files`, read back.
fn sysctl(files: &[(&str, &str)]) -> BTreeMap<String, Reading> {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), files);
    let sysctl = read_sysctl(dir.path()).unwrap();
    assert_eq!(sysctl.name, "sysctl");
    sysctl.data
}

/// Case 26.
#[test]
fn sysctl_leaves_out_the_network_tree() {
    let data = sysctl(&[
        ("kernel/hostname", "testhost\n"),
        ("net/ipv4/ip_forward", "1\n"),
        ("vm/swappiness", "10\n"),
    ]);
    assert_eq!(
        data,
        strings(&[
            ("/proc/sys/kernel/hostname", "testhost"),
            ("/proc/sys/vm/swappiness", "10"),
        ])
    );
}

/// Case 27.
#[test]
fn sunrpc_transports_split_into_one_key_per_transport() {
    let data = sysctl(&[(
        "sunrpc/transports",
        "tcp 1048576\nudp 32768\nrdma 1048576\n",
    )]);
    assert_eq!(
        data,
        strings(&[
            ("/proc/sys/sunrpc/transports/rdma", "1048576"),
            ("/proc/sys/sunrpc/transports/tcp", "1048576"),
            ("/proc/sys/sunrpc/transports/udp", "32768"),
        ])
    );
}

/// Case 28.
#[test]
fn lines_that_are_not_pairs_are_kept_joined_by_newlines() {
    let data = sysctl(&[(
        "kernel/sched_features",
        "GENTLE_FAIR_SLEEPERS\nSTART_DEBIT\nNEXT_BUDDY\n",
    )]);
    assert_eq!(
        data,
        strings(&[(
            "/proc/sys/kernel/sched_features",
            "GENTLE_FAIR_SLEEPERS\nSTART_DEBIT\nNEXT_BUDDY"
        )])
    );
}

/// Case 29.
#[test]
fn inner_whitespace_is_kept_and_an_empty_file_reads_empty() {
    let data = sysctl(&[
        ("kernel/printk", "4    4    1    7\n"),
        ("kernel/empty", ""),
    ]);
    assert_eq!(
        data,
        strings(&[
            ("/proc/sys/kernel/empty", ""),
            ("/proc/sys/kernel/printk", "4    4    1    7"),
        ])
    );
}

/// Case 30.
#[test]
fn cdrom_sysctls_are_left_out() {
    let data = sysctl(&[
        ("dev/cdrom/info", "CD-ROM information, Id: cdrom.c 3.20\n"),
        ("dev/cdrom/debug", "0\n"),
        ("dev/hpet/max-user-freq", "64\n"),
    ]);
    assert_eq!(data, strings(&[("/proc/sys/dev/hpet/max-user-freq", "64")]));
}

#[test]
fn sysctl_keys_are_proc_sys_paths_whatever_the_root() {
    let data = sysctl(&[("fs/file-max", "9223372036854775807\n")]);
    assert_eq!(data.keys().collect::<Vec<_>>(), ["/proc/sys/fs/file-max"]);
}

#[cfg(unix)]
#[test]
fn sysctl_never_follows_links_out_of_the_tree_nor_reads_special_or_oversized_files() {
    let outside = tempfile::tempdir().unwrap();
    tree(
        outside.path(),
        &[("secret", "outside\n"), ("dir/secret", "outside\n")],
    );
    let root = tempfile::tempdir().unwrap();
    tree(
        root.path(),
        &[
            ("kernel/ostype", "Linux\n"),
            ("kernel/big", &"x".repeat(1024 * 1024 + 1)),
        ],
    );
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, root.path().join(name)).unwrap();
    };
    link(&outside.path().join("secret"), "kernel/file-link");
    link(&outside.path().join("dir"), "dir-link");
    link(&root.path().join("kernel/ostype"), "kernel/inside-link");
    // A socket stands in for a FIFO: reading either could block.
    let _socket = std::os::unix::net::UnixListener::bind(root.path().join("kernel/sock")).unwrap();

    let data = read_sysctl(root.path()).unwrap().data;
    assert_eq!(data, strings(&[("/proc/sys/kernel/ostype", "Linux")]));
}

#[test]
fn a_missing_proc_sys_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_sysctl(&dir.path().join("sys")).unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

/// Case 31.
#[test]
fn each_loaded_module_reads_true() {
    let kmod = kmod_subtype(
        "nvidia_uvm 1234 0 - Live 0xffffffffc0000000\n\
         nvidia 5678 2 nvidia_uvm, Live 0xffffffffc1000000\n",
    );
    assert_eq!(kmod.name, "kmod");
    let expected: BTreeMap<String, Reading> = [("nvidia_uvm", true), ("nvidia", true)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Reading::Bool(v)))
        .collect();
    assert_eq!(kmod.data, expected);
}

/// Case 31.
#[test]
fn an_empty_module_list_gives_an_empty_subtype() {
    let kmod = kmod_subtype("");
    assert_eq!(kmod.name, "kmod");
    assert!(kmod.data.is_empty());
}

const UBUNTU: &str = r#"NAME="Ubuntu"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 22.04.4 LTS"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/""#;

/// Case 32.
#[test]
fn ubuntu_os_release_is_read_without_its_quotes() {
    let release = release_subtype(UBUNTU);
    assert_eq!(release.name, "release");
    assert_eq!(
        release.data,
        strings(&[
            ("NAME", "Ubuntu"),
            ("ID", "ubuntu"),
            ("ID_LIKE", "debian"),
            ("PRETTY_NAME", "Ubuntu 22.04.4 LTS"),
            ("VERSION_ID", "22.04"),
            ("VERSION", "22.04.4 LTS (Jammy Jellyfish)"),
            ("VERSION_CODENAME", "jammy"),
            ("HOME_URL", "https://www.ubuntu.com/"),
            ("SUPPORT_URL", "https://help.ubuntu.com/"),
            ("BUG_REPORT_URL", "https://bugs.launchpad.net/ubuntu/"),
        ])
    );
}

/// Case 33.
#[test]
fn rhel_os_release_is_read_without_its_single_quotes() {
    let release = release_subtype(
        "NAME='Red Hat Enterprise Linux'\nVERSION='8.7 (Ootpa)'\nID='rhel'\nID_LIKE='fedora'\n\
         VERSION_ID='8.7'\nPLATFORM_ID='platform:el8'\n\
         PRETTY_NAME='Red Hat Enterprise Linux 8.7 (Ootpa)'\nANSI_COLOR='0;31'",
    );
    assert_eq!(
        release.data,
        strings(&[
            ("NAME", "Red Hat Enterprise Linux"),
            ("VERSION", "8.7 (Ootpa)"),
            ("ID", "rhel"),
            ("ID_LIKE", "fedora"),
            ("VERSION_ID", "8.7"),
            ("PLATFORM_ID", "platform:el8"),
            ("PRETTY_NAME", "Red Hat Enterprise Linux 8.7 (Ootpa)"),
            ("ANSI_COLOR", "0;31"),
        ])
    );
}

/// Case 34.
#[test]
fn os_release_drops_comments_lines_without_equals_and_empty_values() {
    let release = release_subtype(
        "# This is a comment\nNAME=\"Ubuntu\"\nMALFORMED LINE WITHOUT EQUALS\n\n   # indented\n\
         ID=ubuntu\nEMPTY=\"\"\nVERSION_ID=\"22.04\"",
    );
    assert_eq!(
        release.data,
        strings(&[
            ("NAME", "Ubuntu"),
            ("ID", "ubuntu"),
            ("VERSION_ID", "22.04")
        ])
    );
}

#[test]
fn os_release_quotes_are_stripped_without_pairing() {
    let release = release_subtype("NAME=\"Ubuntu 'LTS'\"\nVERSION='22.04 \"Jammy\"'");
    assert_eq!(
        release.data,
        strings(&[("NAME", "Ubuntu 'LTS"), ("VERSION", "22.04 \"Jammy")])
    );
}

/// Case 34.
#[test]
fn etc_os_release_is_preferred_and_usr_lib_os_release_is_the_fallback() {
    let root = tempfile::tempdir().unwrap();
    tree(
        root.path(),
        &[("usr/lib/os-release", "NAME=\"Fallback OS\"\nID=fallback\n")],
    );
    let release = read_release(root.path()).unwrap();
    assert_eq!(
        release.data,
        strings(&[("NAME", "Fallback OS"), ("ID", "fallback")])
    );

    tree(root.path(), &[("etc/os-release", "ID=primary\n")]);
    let release = read_release(root.path()).unwrap();
    assert_eq!(release.data, strings(&[("ID", "primary")]));
}

/// Case 34.
#[test]
fn no_os_release_at_all_is_not_found() {
    let root = tempfile::tempdir().unwrap();
    let err = read_release(root.path()).unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.to_string().contains("usr/lib/os-release"), "{err}");
}

#[test]
fn an_empty_os_release_gives_an_empty_subtype() {
    let root = tempfile::tempdir().unwrap();
    tree(root.path(), &[("etc/os-release", "")]);
    assert!(read_release(root.path()).unwrap().data.is_empty());
}

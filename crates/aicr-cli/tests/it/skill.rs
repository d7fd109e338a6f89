//! `aicr skill`: the agent skill file, generated from the command tree,
//! written where each assistant looks for it, and never through a link
//! or over a file without consent.

use std::path::Path;
use std::process::{Command, Stdio};

fn skill(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_aicr"))
        .arg("skill")
        .args(args)
        .env("HOME", home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    aicr_test_support::output_text(out)
}

#[test]
fn the_skill_documents_every_command_of_the_binary() {
    let home = tempfile::tempdir().unwrap();
    let (code, text, err) = skill(home.path(), &["--agent", "codex", "--stdout"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("---\nname: aicr\ndescription: "), "{text}");
    assert!(
        text.contains("\nuser_invocable: true\n---\n\n# AICR CLI (v"),
        "{text}"
    );
    // Every command `aicr --help` lists has its section.
    let (_, help, _) = crate::support::run(["--help"]);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 9, "{help}");
    for c in commands {
        assert!(
            text.contains(&format!("### `aicr {c}`")),
            "no section for {c}"
        );
    }
    assert!(text.contains("### `aicr recipe lint`"));
    assert!(
        text.contains("| `--vendor-charts` |"),
        "flags come from clap"
    );
    let services = text
        .lines()
        .find_map(|l| l.strip_prefix("- `--service`: "))
        .unwrap();
    assert!(services.split(", ").any(|s| s == "eks"), "{services}");
    assert!(text.contains("| `UNAUTHORIZED` | 4 |"));
    // A table cell never holds a bare `|`.
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        assert_eq!(line.matches(" | ").count(), 1, "{line}");
    }
}

#[test]
fn each_agent_gets_the_same_file_in_its_own_directory() {
    let home = tempfile::tempdir().unwrap();
    let (_, expected, _) = skill(home.path(), &["--agent", "claude-code", "--stdout"]);
    for (agent, dir) in [("claude-code", ".claude"), ("codex", ".codex")] {
        let (code, out, err) = skill(home.path(), &["--agent", agent]);
        assert_eq!(code, 0, "{err}");
        let path = home.path().join(dir).join("skills/aicr/SKILL.md");
        assert!(out.contains("Skill file written to"), "{out}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    }
}

#[test]
fn an_existing_file_needs_force_and_a_link_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(".claude/skills/aicr/SKILL.md");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "mine").unwrap();
    let (code, _, err) = skill(home.path(), &["--agent", "claude-code"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
    let (code, _, err) = skill(home.path(), &["--agent", "claude-code", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_ne!(std::fs::read_to_string(&path).unwrap(), "mine");

    #[cfg(unix)]
    {
        let victim = home.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let (code, _, err) = skill(home.path(), &["--agent", "claude-code", "--force"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}

#[test]
fn the_agent_is_required_and_checked() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, _) = skill(home.path(), &[]);
    assert_eq!(code, 1, "a missing flag is a usage error");
    let (code, _, err) = skill(home.path(), &["--agent", "vim"]);
    assert_eq!(code, 2);
    assert!(err.contains("claude-code, codex"), "{err}");
}

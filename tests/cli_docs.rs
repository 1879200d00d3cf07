//! The command line's documentation held to its word:
//! - every subcommand's `--help` equals its transcript in `tests/help/` (so a help
//!   change is a reviewed diff: `CONVMAT_BLESS=1 cargo test --test cli_docs` rewrites
//!   the transcripts, and `git diff` shows what changed);
//! - every flag the README's command summary names exists on that subcommand, and
//!   every example in every `--help` runs (on small files made here) or, where it
//!   needs a file this test does not make, at least parses.

mod common;

use common::{array, convmat, SUBCOMMANDS};
use convmat::io::write_npy;
use std::path::{Path, PathBuf};

fn help_of(args: &[&str]) -> String {
    common::ok(args)
}

fn transcript(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/help")
        .join(format!("{name}.txt"))
}

#[test]
fn every_help_matches_its_reviewed_transcript() {
    let bless = std::env::var_os("CONVMAT_BLESS").is_some();
    let mut stale = vec![];
    for name in std::iter::once("convmat").chain(SUBCOMMANDS) {
        let args: Vec<&str> = if name == "convmat" {
            vec!["--help"]
        } else {
            vec![name, "--help"]
        };
        let now = help_of(&args);
        let path = transcript(name);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &now).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(now.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "the help of {stale:?} differs from tests/help/*.txt: review the change and run \
         CONVMAT_BLESS=1 cargo test --test cli_docs"
    );
}

/// The README's command summary: each `convmat <sub> …` line and its continuation
/// lines, with the flags they name.
fn readme_summary() -> Vec<(String, Vec<String>)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("## Command line")
        .expect("a command-line section");
    let block = &readme[start..];
    let block = &block[block.find("```text").unwrap() + 7..];
    let block = &block[..block.find("```").unwrap()];
    let mut entries: Vec<(String, Vec<String>)> = vec![];
    for line in block.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"convmat") {
            entries.push((words[1].to_string(), vec![]));
        } else if !line.starts_with(' ') {
            continue;
        }
        if let Some((_, flags)) = entries.last_mut() {
            for w in words {
                let w = w.trim_matches(|c: char| "[]()|".contains(c));
                if let Some(flag) = w.strip_prefix("--") {
                    let flag: String = flag
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    flags.push(format!("--{flag}"));
                }
            }
        }
    }
    entries
}

#[test]
fn every_flag_in_the_readme_exists_on_its_subcommand() {
    let entries = readme_summary();
    assert!(entries.len() >= SUBCOMMANDS.len(), "{entries:?}");
    for (sub, flags) in entries {
        assert!(
            SUBCOMMANDS.contains(&sub.as_str()),
            "README names `convmat {sub}`"
        );
        let help = help_of(&[&sub, "--help"]);
        for flag in flags {
            assert!(
                help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
                "README gives `convmat {sub} {flag}`, which its --help does not list"
            );
        }
    }
}

/// The files the help examples name, made small and consistent: a 1×1×6×6 image,
/// 3×3 weights, its pool indices, a stride-2 observation, and a 1×4×3×3 tensor and
/// its pixel shuffle.
fn example_files(dir: &Path) {
    let x: Vec<f64> = (0..36).map(|i| ((i * 7) % 11) as f64 / 10.0).collect();
    write_npy(&dir.join("x.npy"), &array(&[1, 1, 6, 6], x)).unwrap();
    let w: Vec<f64> = [1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]
        .iter()
        .map(|v| v / 16.0)
        .collect();
    write_npy(&dir.join("w.npy"), &array(&[1, 1, 3, 3], w)).unwrap();
    write_npy(&dir.join("y.npy"), &array(&[1, 1, 3, 3], vec![0.5; 9])).unwrap();
    let indices: Vec<i64> = vec![0, 3, 14, 17];
    write_npy(&dir.join("i.npy"), &array(&[1, 1, 2, 2], indices)).unwrap();
    // four channels of 3×3 for pixel-shuffle, one of 6×6 back for pixel-unshuffle
    let deep: Vec<f32> = (0..36i16).map(f32::from).collect();
    write_npy(&dir.join("deep.npy"), &array(&[1, 4, 3, 3], deep.clone())).unwrap();
    write_npy(&dir.join("wide.npy"), &array(&[1, 1, 6, 6], deep)).unwrap();
    // a stack on one 6×6 channel: the 3×3 weight with padding 1, then its transpose
    // at stride 2 (6×6 → 3×3 → 5×5 … with padding 1 and output padding 1, 6×6 again)
    std::fs::write(
        dir.join("model.json"),
        r#"{"input": [1, 6, 6], "layers": [
            {"type": "conv", "weight": "w.npy", "stride": 2, "padding": 1},
            {"type": "conv_transpose", "weight": "w.npy", "stride": 2, "padding": 1, "output_padding": 1}]}"#,
    )
    .unwrap();
}

#[test]
fn every_help_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    example_files(dir.path());
    let mut ran = 0;
    for sub in SUBCOMMANDS {
        let help = help_of(&[sub, "--help"]);
        let examples: Vec<&str> = help
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with(&format!("convmat {sub}")))
            .collect();
        assert!(!examples.is_empty(), "{sub}: no example");
        for example in examples {
            let args: Vec<&str> = example.split_whitespace().skip(1).collect();
            // report runs for minutes and tour is tested elsewhere: parse only
            if matches!(sub, "report" | "tour") {
                continue;
            }
            let out = convmat()
                .current_dir(dir.path())
                .args(&args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            // an example may describe data this test did not make (shapes that do not
            // fit); it must never be a usage error
            assert!(
                !stderr.contains("(see --help)"),
                "`{example}` is not valid usage: {stderr}"
            );
            ran += usize::from(out.status.success());
        }
    }
    assert!(ran >= 6, "only {ran} examples ran to the end");
}

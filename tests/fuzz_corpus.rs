//! Replays every fuzzing input kept in the repository through the fuzzers' own entry
//! points (`convmat::fuzz_entry`), on the stable toolchain: the seed corpora and the
//! minimised corpora the fuzzers grew (`fuzz/corpus/<target>/`), and every input that
//! once crashed, kept by name (`fuzz/regressions/<target>/`). None may panic.

use std::path::Path;

fn replay(dir: &str, target: &str, entry: Entry) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(target);
    let Ok(files) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for f in files {
        let path = f.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{} panicked", path.display());
            n += 1;
        }
    }
    n
}

/// A fuzzer's entry point.
type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry); 7] = [
    ("npy", convmat::fuzz_entry::npy),
    ("matrix_market", convmat::fuzz_entry::matrix_market),
    ("png", convmat::fuzz_entry::png),
    ("geometry", convmat::fuzz_entry::geometry),
    ("cli_args", convmat::fuzz_entry::cli_args),
    ("stack", convmat::fuzz_entry::stack),
    ("formulations", convmat::fuzz_entry::formulations),
];

#[test]
fn every_corpus_input_is_handled_without_a_panic() {
    for (target, entry) in TARGETS {
        let n = replay("fuzz/corpus", target, entry);
        assert!(n > 0, "no corpus for {target}");
    }
}

#[test]
fn every_input_that_once_crashed_is_handled() {
    for (target, entry) in TARGETS {
        replay("fuzz/regressions", target, entry);
    }
}

//! Fuzzes `convmat::fuzz_entry::formulations` (see that function; `tests/fuzz_corpus.rs`
//! replays the corpus on the stable toolchain).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| convmat::fuzz_entry::formulations(data));

//! A request frame's body: the envelope and every command's arguments (paraphe-protocol).
//! See fuzz/README.md; the entry point and its invariants are in `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::request_json(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::request_json);
}

//! A time-stamp authority's answer: `paraphe_formats::cms::timestamp::token`, then the token
//! in a CAdES SignerInfo. See fuzz/README.md; the entry point and its invariants are in
//! `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::timestamp_response(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::timestamp_response);
}

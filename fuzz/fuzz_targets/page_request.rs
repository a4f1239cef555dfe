//! A page's request: Paraphe's page API, Web eID messages, page origins.
//! See fuzz/README.md; the entry point and its invariants are in `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::page_request(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::page_request);
}

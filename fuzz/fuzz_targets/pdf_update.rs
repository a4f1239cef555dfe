//! A PDF to sign in PAdES: `paraphe_formats::pdf::prepare`, then `finish`, then signing again.
//! See fuzz/README.md; the entry point and its invariants are in `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::pdf_update(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::pdf_update);
}

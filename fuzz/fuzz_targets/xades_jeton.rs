//! A XAdES detached « jeton »: `paraphe_formats::verify::verify_xades` and C14N.
//! See fuzz/README.md; the entry point and its invariants are in `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::xades_jeton(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::xades_jeton);
}

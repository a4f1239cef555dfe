//! A LiberSign page's `signatureInformations` (and any bytes as a `.p7s` to co-sign).
//! See fuzz/README.md; the entry point and its invariants are in `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::libersign_plan(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::libersign_plan);
}

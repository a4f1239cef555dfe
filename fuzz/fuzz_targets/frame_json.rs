//! The host's native-messaging loop on arbitrary bytes: framing + JSON + dispatch,
//! `paraphe_host::native::serve` with no token. See fuzz/README.md; the entry point and its
//! invariants are in `src/lib.rs`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraphe_fuzz::frame_json(data));

/// Built without `cargo fuzz`: replays the files (or directories) given as arguments.
#[cfg(not(fuzzing))]
fn main() {
    paraphe_fuzz::replay(paraphe_fuzz::frame_json);
}

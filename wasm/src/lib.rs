//! Paraphe's WASM core (skeleton: the extension issue fills it in).

use wasm_bindgen::prelude::*;

/// The protocol version this core speaks, to compare with the host's `hello`.
#[wasm_bindgen]
pub fn protocol_version() -> u32 {
    paraphe_protocol::PROTOCOL_VERSION
}

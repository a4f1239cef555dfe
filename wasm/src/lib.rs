//! Paraphe's WASM core, instantiated at every start of the extension's background (and by the
//! pages that call it through `background/core.js`: the diagnostics page).
//!
//! Only the `#[wasm_bindgen]` surface lives in [`bindings`] (feature `bindings`, on by
//! default); the logic is plain Rust in the modules below, unit-tested natively
//! (`cargo test -p paraphe-wasm`). Structured values cross the boundary as JSON text: the JS
//! side does `JSON.parse`, which keeps this surface small and free of a serde ↔ JsValue
//! layer. Failures are thrown as the JSON text of `{code, message}` (see `docs/PAGE-API.md`
//! for the codes).
//!
//! What only pages that read files need (the PDF reader and PAdES layout, the zip) is
//! exported by the files module (`files-wasm/`, `paraphe_files`), which uses this crate as a
//! library without its `bindings`: a dependency's `#[wasm_bindgen]` exports would otherwise
//! all be linked into it. The same for what only signing needs ([`certs`], [`formats`],
//! [`libersign`]): the signing module (`signing-wasm/`, `paraphe_signing`) exports it, and the
//! background instantiates that module on first use, so that the core every start compiles
//! stays small (issue 18).

pub mod certs;
pub mod digest;
pub mod error;
pub mod formats;
pub mod host;
pub mod libersign;
pub mod origin;
pub mod pli;
pub mod request;
pub mod webeid;

#[cfg(feature = "bindings")]
mod bindings;
#[cfg(feature = "streams")]
mod streams;
#[cfg(feature = "bindings")]
pub use bindings::*;
#[cfg(feature = "streams")]
pub use streams::{Hasher, PliDecryptor};

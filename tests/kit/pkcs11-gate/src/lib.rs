//! A PKCS#11 module for tests that holds chosen operations at a gate the test controls.
//!
//! It loads the real module named by `PARAPHE_GATE_MODULE` (SoftHSM, OpenSC…) and hands out
//! that module's function list with five entries replaced: its own `C_GetFunctionList`, and
//! `C_Sign`, `C_SignFinal`, `C_Decrypt`, `C_Login`, which first take a ticket at the gate in
//! `PARAPHE_GATE_DIR` ([`gate`]) and wait until the test lets them through. Everything else
//! goes straight to the real module. Without `PARAPHE_GATE_DIR` it only forwards.
//!
//! So a test can say "let 20 signatures through, hold the 21st", wait until the 21st is
//! held (a known point: 20 signatures made, the next not begun), then kill the host, pull the
//! card or close the window, and assert exactly what was done: no fault races the work.
//! A length query (null output buffer, PKCS#11 3.0 §5.2) is not an operation and is not held.
//!
//! Test material only: it is never installed. `tests/kit/README.md` shows its use.
pub mod gate;
mod module;

//! The exported `C_GetFunctionList` and the five gated functions. All the unsafe code of the
//! crate is here: loading the real module and calling through its function pointers.
#![allow(unsafe_code)]

use crate::gate::Gate;
use cryptoki_sys::{
    CKR_ARGUMENTS_BAD, CKR_FUNCTION_NOT_SUPPORTED, CKR_GENERAL_ERROR, CKR_OK, CK_BYTE, CK_FUNCTION_LIST,
    CK_FUNCTION_LIST_PTR, CK_FUNCTION_LIST_PTR_PTR, CK_RV, CK_SESSION_HANDLE, CK_ULONG, CK_USER_TYPE, CK_UTF8CHAR,
};
use std::sync::OnceLock;

struct Module {
    /// Keeps the real module mapped for the life of the process.
    _library: cryptoki_sys::Pkcs11,
    /// The real module's table, copied.
    real: CK_FUNCTION_LIST,
    /// The table handed out: `real` with our functions in place.
    ours: CK_FUNCTION_LIST,
}

static MODULE: OnceLock<Result<Module, String>> = OnceLock::new();
static GATE: OnceLock<Option<Gate>> = OnceLock::new();

fn load() -> Result<Module, String> {
    let path = std::env::var_os("PARAPHE_GATE_MODULE")
        .ok_or("PARAPHE_GATE_MODULE is not set: it names the real PKCS#11 module to forward to")?;
    // SAFETY: loading a PKCS#11 module runs its initialisers; that is what the host would do
    // by loading it directly.
    let library = unsafe { cryptoki_sys::Pkcs11::new(&path) }
        .map_err(|e| format!("cannot load PARAPHE_GATE_MODULE={}: {e}", path.to_string_lossy()))?;
    let mut list: CK_FUNCTION_LIST_PTR = std::ptr::null_mut();
    // SAFETY: C_GetFunctionList writes one pointer to the module's static table (§5.2).
    let rv = unsafe { library.C_GetFunctionList(&mut list) };
    if rv != CKR_OK || list.is_null() {
        return Err(format!("C_GetFunctionList of {} returned {rv:#x}", path.to_string_lossy()));
    }
    // SAFETY: `list` points to the table, valid while the library is loaded; we copy it.
    let real = unsafe { *list };
    let ours = CK_FUNCTION_LIST {
        C_GetFunctionList: Some(C_GetFunctionList),
        C_Sign: Some(sign),
        C_SignFinal: Some(sign_final),
        C_Decrypt: Some(decrypt),
        C_Login: Some(login),
        ..real
    };
    Ok(Module { _library: library, real, ours })
}

fn real() -> Option<&'static CK_FUNCTION_LIST> {
    MODULE.get().and_then(|m| m.as_ref().ok()).map(|m| &m.real)
}

/// Runs `call` after the gate let `function` through, and counts it done after.
fn gated(function: &str, call: impl FnOnce() -> CK_RV) -> CK_RV {
    let gate = GATE.get_or_init(|| std::env::var_os("PARAPHE_GATE_DIR").map(Gate::new));
    let Some(gate) = gate else { return call() };
    if let Err(e) = gate.pass(function) {
        eprintln!("paraphe-pkcs11-gate: {function}: {e}");
        return CKR_GENERAL_ERROR;
    }
    let rv = call();
    if let Err(e) = gate.done(function) {
        eprintln!("paraphe-pkcs11-gate: {function}: {e}");
    }
    rv
}

/// PKCS#11 3.0 §5.2: the module's entry point.
///
/// # Safety
/// `list` must be null or valid for one pointer write (the PKCS#11 contract).
#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(list: CK_FUNCTION_LIST_PTR_PTR) -> CK_RV {
    if list.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    match MODULE.get_or_init(load) {
        Ok(m) => {
            // SAFETY: checked non-null; the caller gave room for one pointer. The table is
            // in a static, so it outlives every caller; callers only read through it.
            unsafe { *list = std::ptr::from_ref(&m.ours).cast_mut() };
            CKR_OK
        }
        Err(e) => {
            eprintln!("paraphe-pkcs11-gate: {e}");
            CKR_GENERAL_ERROR
        }
    }
}

// The wrappers below are only reachable through `ours`, which exists only once `MODULE` is
// loaded. Each passes its arguments unchanged to the real function: the caller's PKCS#11
// obligations on them are the real module's.

unsafe extern "C" fn sign(
    session: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    len: CK_ULONG,
    signature: *mut CK_BYTE,
    signature_len: *mut CK_ULONG,
) -> CK_RV {
    let Some(f) = real().and_then(|r| r.C_Sign) else { return CKR_FUNCTION_NOT_SUPPORTED };
    // SAFETY: the caller's arguments, forwarded unchanged.
    let call = || unsafe { f(session, data, len, signature, signature_len) };
    if signature.is_null() {
        return call();
    }
    gated("C_Sign", call)
}

unsafe extern "C" fn sign_final(
    session: CK_SESSION_HANDLE,
    signature: *mut CK_BYTE,
    signature_len: *mut CK_ULONG,
) -> CK_RV {
    let Some(f) = real().and_then(|r| r.C_SignFinal) else { return CKR_FUNCTION_NOT_SUPPORTED };
    // SAFETY: the caller's arguments, forwarded unchanged.
    let call = || unsafe { f(session, signature, signature_len) };
    if signature.is_null() {
        return call();
    }
    gated("C_SignFinal", call)
}

unsafe extern "C" fn decrypt(
    session: CK_SESSION_HANDLE,
    encrypted: *mut CK_BYTE,
    encrypted_len: CK_ULONG,
    data: *mut CK_BYTE,
    data_len: *mut CK_ULONG,
) -> CK_RV {
    let Some(f) = real().and_then(|r| r.C_Decrypt) else { return CKR_FUNCTION_NOT_SUPPORTED };
    // SAFETY: the caller's arguments, forwarded unchanged.
    let call = || unsafe { f(session, encrypted, encrypted_len, data, data_len) };
    if data.is_null() {
        return call();
    }
    gated("C_Decrypt", call)
}

unsafe extern "C" fn login(
    session: CK_SESSION_HANDLE,
    user_type: CK_USER_TYPE,
    pin: *mut CK_UTF8CHAR,
    pin_len: CK_ULONG,
) -> CK_RV {
    let Some(f) = real().and_then(|r| r.C_Login) else { return CKR_FUNCTION_NOT_SUPPORTED };
    // SAFETY: the caller's arguments, forwarded unchanged (the PIN is never read here).
    gated("C_Login", || unsafe { f(session, user_type, pin, pin_len) })
}

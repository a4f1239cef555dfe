//! Single-part C_Sign / C_Decrypt after an `*_init` + context-specific login.
//!
//! cryptoki 0.12 has no single-part sign or decrypt that follows a separate `*_init`
//! (its `sign()` does C_SignInit + C_Sign in one call), and multi-part `CKM_RSA_PKCS` and
//! `CKM_ECDSA` are not defined by PKCS#11. So, for keys with CKA_ALWAYS_AUTHENTICATE only,
//! we call the module's own C_Sign / C_Decrypt through its function list. Opening the
//! library a second time returns the same loaded module (dlopen/LoadLibrary are
//! reference-counted), so the session handle is valid there.
//!
//! To be deleted when cryptoki releases `Session::sign_single` / `decrypt_single` (single
//! part after a separate `*_init`, on cryptoki's main branch, not in 0.12): then
//! `Pkcs11Backend::sign`/`decrypt` call those, and `cryptoki-sys` leaves host/Cargo.toml.
#![allow(unsafe_code)]

use crate::error::{Error, Result};
use cryptoki::context::Function;
use cryptoki::error::Rv;
use cryptoki::session::Session;
use cryptoki_sys::{CKR_OK, CK_FUNCTION_LIST, CK_FUNCTION_LIST_PTR, CK_ULONG};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use zeroize::Zeroizing;

struct FunctionList {
    /// Keeps the library mapped while `list` is used.
    _library: cryptoki_sys::Pkcs11,
    list: CK_FUNCTION_LIST_PTR,
}

// SAFETY: a CK_FUNCTION_LIST is an immutable table of function pointers owned by the
// module; PKCS#11 modules initialised with CKF_OS_LOCKING_OK may be called from any thread.
unsafe impl Send for FunctionList {}

fn function_list(path: &Path) -> Result<CK_FUNCTION_LIST> {
    static LISTS: OnceLock<Mutex<HashMap<PathBuf, FunctionList>>> = OnceLock::new();
    let mut lists = LISTS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(|_| Error::Internal("function list table poisoned".into()))?;
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if !lists.contains_key(&key) {
        // SAFETY: the same library is already loaded and initialised by cryptoki; loading
        // it again runs no new initialisers.
        let library =
            unsafe { cryptoki_sys::Pkcs11::new(&key) }.map_err(|e| Error::ModuleUnavailable(e.to_string()))?;
        let mut list: CK_FUNCTION_LIST_PTR = std::ptr::null_mut();
        // SAFETY: C_GetFunctionList writes one pointer to a static table (PKCS#11 3.0 §5.2).
        let rv = unsafe { library.C_GetFunctionList(&mut list) };
        if rv != CKR_OK || list.is_null() {
            return Err(Error::ModuleUnavailable(format!("C_GetFunctionList returned {rv:#x}")));
        }
        lists.insert(key.clone(), FunctionList { _library: library, list });
    }
    let entry = lists.get(&key).ok_or_else(|| Error::Internal("function list vanished".into()))?;
    // SAFETY: `list` points to the module's static function table, valid while loaded.
    Ok(unsafe { *entry.list })
}

type OneShot = unsafe extern "C" fn(CK_ULONG, *mut u8, CK_ULONG, *mut u8, *mut CK_ULONG) -> CK_ULONG;

/// Calls a single-part operation with the PKCS#11 length-query convention (§5.2).
fn one_shot(f: Option<OneShot>, function: Function, session: &Session, input: &[u8]) -> Result<Vec<u8>> {
    let f = f.ok_or_else(|| Error::ModuleUnavailable(format!("module lacks C_{function}")))?;
    let in_len = CK_ULONG::try_from(input.len()).map_err(|_| Error::InvalidArgument("input too long".into()))?;
    let mut out_len: CK_ULONG = 0;
    // The module does not write through pData; the cast only satisfies the C prototype.
    let data = input.as_ptr().cast_mut();
    // SAFETY: a null output pointer asks for the length only.
    let rv = unsafe { f(session.handle(), data, in_len, std::ptr::null_mut(), &mut out_len) };
    Rv::from(rv).into_result(function)?;
    let mut out = vec![0u8; usize::try_from(out_len).unwrap_or(0)];
    // SAFETY: `out` has `out_len` bytes, as the module asked.
    let rv = unsafe { f(session.handle(), data, in_len, out.as_mut_ptr(), &mut out_len) };
    Rv::from(rv).into_result(function)?;
    out.truncate(usize::try_from(out_len).unwrap_or(0));
    Ok(out)
}

pub fn sign(module: &Path, session: &Session, input: &[u8]) -> Result<Vec<u8>> {
    let list = function_list(module)?;
    one_shot(list.C_Sign, Function::Sign, session, input)
}

pub fn decrypt(module: &Path, session: &Session, input: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let list = function_list(module)?;
    one_shot(list.C_Decrypt, Function::Decrypt, session, input).map(Zeroizing::new)
}

//! A software PKCS#11 token for tests, nothing else: one slot, one token, one RSA key and its
//! X.509 certificate, `CKM_RSA_PKCS` signatures. It exists so that the Windows build of the
//! host can be tested under Wine with a Windows PKCS#11 module made from our own code
//! (`installers/windows/test.sh` cross-compiles it to `paraphe_test_token.dll`).
//!
//! The key and certificate come from the folder named by `PARAPHE_TEST_TOKEN_DIR`, written by
//! the test with openssl: `cert.der` (the certificate, DER) and `key.txt` (lines `n=HEX`,
//! `e=HEX`, `d=HEX`: modulus, public and private exponents). The user PIN is `pin.txt` when
//! present, else `1234`. The key is only visible after `C_Login`, as on a smart card.
//!
//! Not a secure token: the private key sits in a file and the RSA is not constant-time.
#![allow(unsafe_code)]

use cryptoki_sys::*;
use num_bigint::BigUint;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

const SLOT: CK_SLOT_ID = 1;
const CERT: CK_OBJECT_HANDLE = 1;
const KEY: CK_OBJECT_HANDLE = 2;
const OBJECT_ID: &[u8] = &[0x01];
const LABEL: &str = "Paraphe test key";

struct Object {
    handle: CK_OBJECT_HANDLE,
    private: bool,
    attributes: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
}

struct Key {
    n: BigUint,
    d: BigUint,
    bytes: usize,
}

#[derive(Default)]
struct Session {
    /// Objects left to return by C_FindObjects, when a search is active.
    found: Option<Vec<CK_OBJECT_HANDLE>>,
    /// A C_SignInit waiting for its C_Sign.
    signing: bool,
}

struct Token {
    objects: Vec<Object>,
    key: Key,
    pin: Vec<u8>,
    logged_in: bool,
    sessions: HashMap<CK_SESSION_HANDLE, Session>,
    next_session: CK_SESSION_HANDLE,
}

fn state() -> MutexGuard<'static, Option<Token>> {
    static STATE: Mutex<Option<Token>> = Mutex::new(None);
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn ulong(v: CK_ULONG) -> Vec<u8> {
    v.to_ne_bytes().to_vec()
}

fn load() -> Result<Token, String> {
    let dir = std::env::var_os("PARAPHE_TEST_TOKEN_DIR").ok_or("PARAPHE_TEST_TOKEN_DIR is not set")?;
    let dir = std::path::PathBuf::from(dir);
    let cert = std::fs::read(dir.join("cert.der")).map_err(|e| format!("cert.der: {e}"))?;
    let text = std::fs::read_to_string(dir.join("key.txt")).map_err(|e| format!("key.txt: {e}"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
            .and_then(|hex| BigUint::parse_bytes(hex.trim().as_bytes(), 16))
            .ok_or(format!("key.txt: no {name}"))
    };
    let (n, e, d) = (field("n")?, field("e")?, field("d")?);
    let pin = std::fs::read_to_string(dir.join("pin.txt")).map(|p| p.trim().as_bytes().to_vec());
    let bytes = usize::try_from(n.bits().div_ceil(8)).map_err(|e| e.to_string())?;
    let common = |class: CK_OBJECT_CLASS, private: bool| {
        vec![
            (CKA_CLASS, ulong(class)),
            (CKA_TOKEN, vec![CK_TRUE]),
            (CKA_PRIVATE, vec![if private { CK_TRUE } else { CK_FALSE }]),
            (CKA_ID, OBJECT_ID.to_vec()),
            (CKA_LABEL, LABEL.as_bytes().to_vec()),
        ]
    };
    let mut cert_attrs = common(CKO_CERTIFICATE, false);
    cert_attrs.extend([(CKA_CERTIFICATE_TYPE, ulong(CKC_X_509)), (CKA_VALUE, cert)]);
    let mut key_attrs = common(CKO_PRIVATE_KEY, true);
    key_attrs.extend([
        (CKA_KEY_TYPE, ulong(CKK_RSA)),
        (CKA_SIGN, vec![CK_TRUE]),
        (CKA_DECRYPT, vec![CK_FALSE]),
        (CKA_SENSITIVE, vec![CK_TRUE]),
        (CKA_EXTRACTABLE, vec![CK_FALSE]),
        (CKA_ALWAYS_AUTHENTICATE, vec![CK_FALSE]),
        (CKA_MODULUS, n.to_bytes_be()),
        (CKA_PUBLIC_EXPONENT, e.to_bytes_be()),
    ]);
    Ok(Token {
        objects: vec![
            Object { handle: CERT, private: false, attributes: cert_attrs },
            Object { handle: KEY, private: true, attributes: key_attrs },
        ],
        key: Key { n, d, bytes },
        pin: pin.unwrap_or_else(|_| b"1234".to_vec()),
        logged_in: false,
        sessions: HashMap::new(),
        next_session: 1,
    })
}

/// Runs `f` on the initialised token, or answers CKR_CRYPTOKI_NOT_INITIALIZED.
fn with_token(f: impl FnOnce(&mut Token) -> CK_RV) -> CK_RV {
    match state().as_mut() {
        Some(t) => f(t),
        None => CKR_CRYPTOKI_NOT_INITIALIZED,
    }
}

fn with_session(h: CK_SESSION_HANDLE, f: impl FnOnce(&mut Token, CK_SESSION_HANDLE) -> CK_RV) -> CK_RV {
    with_token(|t| if t.sessions.contains_key(&h) { f(t, h) } else { CKR_SESSION_HANDLE_INVALID })
}

/// Copies `text` into a blank-padded fixed field.
fn pad<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [b' '; N];
    let b = text.as_bytes();
    out[..b.len().min(N)].copy_from_slice(&b[..b.len().min(N)]);
    out
}

fn version() -> CK_VERSION {
    CK_VERSION { major: 2, minor: 40 }
}

// --- general -----------------------------------------------------------------------------

unsafe extern "C" fn c_initialize(_args: *mut c_void) -> CK_RV {
    let mut s = state();
    if s.is_some() {
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    match load() {
        Ok(t) => {
            *s = Some(t);
            CKR_OK
        }
        Err(e) => {
            // The only way to say why: the host reports CKR_GENERAL_ERROR from C_Initialize.
            eprintln!("paraphe-test-token: {e}");
            CKR_GENERAL_ERROR
        }
    }
}

unsafe extern "C" fn c_finalize(_reserved: *mut c_void) -> CK_RV {
    match state().take() {
        Some(_) => CKR_OK,
        None => CKR_CRYPTOKI_NOT_INITIALIZED,
    }
}

unsafe extern "C" fn c_get_info(info: *mut CK_INFO) -> CK_RV {
    if info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    with_token(|_| {
        let value = CK_INFO {
            cryptokiVersion: version(),
            manufacturerID: pad("Paraphe"),
            flags: 0,
            libraryDescription: pad("Paraphe test token"),
            libraryVersion: CK_VERSION { major: 0, minor: 1 },
        };
        // SAFETY: `info` is non-null and points to a CK_INFO (PKCS#11 C_GetInfo).
        unsafe { info.write_unaligned(value) };
        CKR_OK
    })
}

// --- slots and tokens --------------------------------------------------------------------

unsafe extern "C" fn c_get_slot_list(_present: CK_BBOOL, list: *mut CK_SLOT_ID, count: *mut CK_ULONG) -> CK_RV {
    if count.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // SAFETY: `count` is non-null; `list`, when given, holds `*count` slot ids.
    with_token(|_| unsafe { write_one(list, count, SLOT) })
}

/// The PKCS#11 two-call list convention for a list of one `value`: the length alone when
/// `list` is null, `CKR_BUFFER_TOO_SMALL` when `*count` is 0, else the value.
///
/// # Safety
/// `count` is non-null and valid; `list`, when non-null, holds `*count` elements.
unsafe fn write_one<T>(list: *mut T, count: *mut CK_ULONG, value: T) -> CK_RV {
    // SAFETY: as the caller promises.
    unsafe {
        if !list.is_null() {
            if count.read_unaligned() < 1 {
                count.write_unaligned(1);
                return CKR_BUFFER_TOO_SMALL;
            }
            list.write_unaligned(value);
        }
        count.write_unaligned(1);
    }
    CKR_OK
}

unsafe extern "C" fn c_get_slot_info(slot: CK_SLOT_ID, info: *mut CK_SLOT_INFO) -> CK_RV {
    if info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    if slot != SLOT {
        return CKR_SLOT_ID_INVALID;
    }
    with_token(|_| {
        let value = CK_SLOT_INFO {
            slotDescription: pad("Paraphe test slot"),
            manufacturerID: pad("Paraphe"),
            flags: CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE,
            hardwareVersion: version(),
            firmwareVersion: version(),
        };
        // SAFETY: non-null pointer to a CK_SLOT_INFO.
        unsafe { info.write_unaligned(value) };
        CKR_OK
    })
}

unsafe extern "C" fn c_get_token_info(slot: CK_SLOT_ID, info: *mut CK_TOKEN_INFO) -> CK_RV {
    if info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    if slot != SLOT {
        return CKR_SLOT_ID_INVALID;
    }
    with_token(|t| {
        let sessions = CK_ULONG::try_from(t.sessions.len()).unwrap_or(CK_ULONG::MAX);
        let value = CK_TOKEN_INFO {
            label: pad("Paraphe test token"),
            manufacturerID: pad("Paraphe"),
            model: pad("software"),
            serialNumber: pad("0001"),
            flags: CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED,
            ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
            ulSessionCount: sessions,
            ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
            ulRwSessionCount: 0,
            ulMaxPinLen: 64,
            ulMinPinLen: 4,
            ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
            ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
            ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
            hardwareVersion: version(),
            firmwareVersion: version(),
            utcTime: [b' '; 16],
        };
        // SAFETY: non-null pointer to a CK_TOKEN_INFO.
        unsafe { info.write_unaligned(value) };
        CKR_OK
    })
}

unsafe extern "C" fn c_get_mechanism_list(
    slot: CK_SLOT_ID,
    list: *mut CK_MECHANISM_TYPE,
    count: *mut CK_ULONG,
) -> CK_RV {
    if count.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    if slot != SLOT {
        return CKR_SLOT_ID_INVALID;
    }
    // SAFETY: as in C_GetSlotList.
    with_token(|_| unsafe { write_one(list, count, CKM_RSA_PKCS) })
}

unsafe extern "C" fn c_get_mechanism_info(
    slot: CK_SLOT_ID,
    mech: CK_MECHANISM_TYPE,
    info: *mut CK_MECHANISM_INFO,
) -> CK_RV {
    if info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    if slot != SLOT {
        return CKR_SLOT_ID_INVALID;
    }
    if mech != CKM_RSA_PKCS {
        return CKR_MECHANISM_INVALID;
    }
    with_token(|t| {
        let bits = CK_ULONG::try_from(t.key.bytes * 8).unwrap_or(0);
        let value = CK_MECHANISM_INFO { ulMinKeySize: bits, ulMaxKeySize: bits, flags: CKF_HW | CKF_SIGN };
        // SAFETY: non-null pointer to a CK_MECHANISM_INFO.
        unsafe { info.write_unaligned(value) };
        CKR_OK
    })
}

// --- sessions ----------------------------------------------------------------------------

unsafe extern "C" fn c_open_session(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    _app: *mut c_void,
    _notify: CK_NOTIFY,
    session: *mut CK_SESSION_HANDLE,
) -> CK_RV {
    if session.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    if slot != SLOT {
        return CKR_SLOT_ID_INVALID;
    }
    if flags & CKF_SERIAL_SESSION == 0 {
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    }
    with_token(|t| {
        let h = t.next_session;
        t.next_session += 1;
        t.sessions.insert(h, Session::default());
        // SAFETY: non-null pointer to a session handle.
        unsafe { session.write_unaligned(h) };
        CKR_OK
    })
}

unsafe extern "C" fn c_close_session(h: CK_SESSION_HANDLE) -> CK_RV {
    with_session(h, |t, h| {
        t.sessions.remove(&h);
        // The login state ends with the token's last session (PKCS#11 §5.6).
        if t.sessions.is_empty() {
            t.logged_in = false;
        }
        CKR_OK
    })
}

unsafe extern "C" fn c_close_all_sessions(slot: CK_SLOT_ID) -> CK_RV {
    if slot != SLOT {
        return CKR_SLOT_ID_INVALID;
    }
    with_token(|t| {
        t.sessions.clear();
        t.logged_in = false;
        CKR_OK
    })
}

unsafe extern "C" fn c_get_session_info(h: CK_SESSION_HANDLE, info: *mut CK_SESSION_INFO) -> CK_RV {
    if info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    with_session(h, |t, _| {
        let state = if t.logged_in { CKS_RO_USER_FUNCTIONS } else { CKS_RO_PUBLIC_SESSION };
        let value = CK_SESSION_INFO { slotID: SLOT, state, flags: CKF_SERIAL_SESSION, ulDeviceError: 0 };
        // SAFETY: non-null pointer to a CK_SESSION_INFO.
        unsafe { info.write_unaligned(value) };
        CKR_OK
    })
}

unsafe extern "C" fn c_login(h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: *mut CK_UTF8CHAR, len: CK_ULONG) -> CK_RV {
    if user != CKU_USER && user != CKU_CONTEXT_SPECIFIC {
        return CKR_USER_TYPE_INVALID;
    }
    if pin.is_null() {
        // No protected authentication path here.
        return CKR_ARGUMENTS_BAD;
    }
    // SAFETY: `pin` points to `len` bytes (PKCS#11 C_Login).
    let given = unsafe { std::slice::from_raw_parts(pin, len as usize) }.to_vec();
    with_session(h, |t, _| {
        if user == CKU_USER && t.logged_in {
            return CKR_USER_ALREADY_LOGGED_IN;
        }
        if given != t.pin {
            return CKR_PIN_INCORRECT;
        }
        t.logged_in = true;
        CKR_OK
    })
}

unsafe extern "C" fn c_logout(h: CK_SESSION_HANDLE) -> CK_RV {
    with_session(h, |t, _| {
        if !t.logged_in {
            return CKR_USER_NOT_LOGGED_IN;
        }
        t.logged_in = false;
        CKR_OK
    })
}

// --- objects -----------------------------------------------------------------------------

/// The attributes of a template, as (type, value) pairs.
///
/// # Safety
/// `template` points to `count` attributes whose values are readable.
unsafe fn read_template(template: *const CK_ATTRIBUTE, count: CK_ULONG) -> Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)> {
    (0..count as usize)
        .map(|i| {
            // SAFETY: i < count, per the caller.
            let a = unsafe { template.add(i).read_unaligned() };
            let value = if a.pValue.is_null() {
                Vec::new()
            } else {
                // SAFETY: the attribute's value holds ulValueLen bytes.
                unsafe { std::slice::from_raw_parts(a.pValue as *const u8, a.ulValueLen as usize) }.to_vec()
            };
            (a.type_, value)
        })
        .collect()
}

unsafe extern "C" fn c_find_objects_init(h: CK_SESSION_HANDLE, template: *mut CK_ATTRIBUTE, count: CK_ULONG) -> CK_RV {
    if template.is_null() && count > 0 {
        return CKR_ARGUMENTS_BAD;
    }
    // SAFETY: `template` holds `count` attributes (PKCS#11 C_FindObjectsInit).
    let wanted = unsafe { read_template(template, count) };
    with_session(h, |t, h| {
        let logged_in = t.logged_in;
        let found: Vec<CK_OBJECT_HANDLE> = t
            .objects
            .iter()
            .filter(|o| logged_in || !o.private)
            .filter(|o| wanted.iter().all(|(ty, v)| o.attributes.iter().any(|(oty, ov)| oty == ty && ov == v)))
            .map(|o| o.handle)
            .collect();
        let Some(s) = t.sessions.get_mut(&h) else { return CKR_SESSION_HANDLE_INVALID };
        if s.found.is_some() {
            return CKR_OPERATION_ACTIVE;
        }
        s.found = Some(found);
        CKR_OK
    })
}

unsafe extern "C" fn c_find_objects(
    h: CK_SESSION_HANDLE,
    out: *mut CK_OBJECT_HANDLE,
    max: CK_ULONG,
    count: *mut CK_ULONG,
) -> CK_RV {
    if out.is_null() || count.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    with_session(h, |t, h| {
        let Some(found) = t.sessions.get_mut(&h).and_then(|s| s.found.as_mut()) else {
            return CKR_OPERATION_NOT_INITIALIZED;
        };
        let n = found.len().min(max as usize);
        for (i, handle) in found.drain(..n).enumerate() {
            // SAFETY: `out` holds `max` handles and i < n ≤ max.
            unsafe { out.add(i).write_unaligned(handle) };
        }
        // SAFETY: non-null pointer to a count.
        unsafe { count.write_unaligned(n as CK_ULONG) };
        CKR_OK
    })
}

unsafe extern "C" fn c_find_objects_final(h: CK_SESSION_HANDLE) -> CK_RV {
    with_session(h, |t, h| match t.sessions.get_mut(&h).and_then(|s| s.found.take()) {
        Some(_) => CKR_OK,
        None => CKR_OPERATION_NOT_INITIALIZED,
    })
}

unsafe extern "C" fn c_get_attribute_value(
    h: CK_SESSION_HANDLE,
    object: CK_OBJECT_HANDLE,
    template: *mut CK_ATTRIBUTE,
    count: CK_ULONG,
) -> CK_RV {
    if template.is_null() && count > 0 {
        return CKR_ARGUMENTS_BAD;
    }
    with_session(h, |t, _| {
        let Some(o) = t.objects.iter().find(|o| o.handle == object && (t.logged_in || !o.private)) else {
            return CKR_OBJECT_HANDLE_INVALID;
        };
        let mut rv = CKR_OK;
        for i in 0..count as usize {
            // SAFETY: `template` holds `count` attributes (PKCS#11 C_GetAttributeValue).
            let slot = unsafe { template.add(i) };
            // SAFETY: as above.
            let mut a = unsafe { slot.read_unaligned() };
            match o.attributes.iter().find(|(ty, _)| *ty == a.type_) {
                None => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_ATTRIBUTE_TYPE_INVALID;
                }
                Some((_, v)) if a.pValue.is_null() => a.ulValueLen = v.len() as CK_ULONG,
                Some((_, v)) if (a.ulValueLen as usize) < v.len() => {
                    a.ulValueLen = CK_UNAVAILABLE_INFORMATION;
                    rv = CKR_BUFFER_TOO_SMALL;
                }
                Some((_, v)) => {
                    // SAFETY: pValue holds ulValueLen ≥ v.len() bytes.
                    unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), a.pValue as *mut u8, v.len()) };
                    a.ulValueLen = v.len() as CK_ULONG;
                }
            }
            // SAFETY: as above.
            unsafe { slot.write_unaligned(a) };
        }
        rv
    })
}

// --- signing -----------------------------------------------------------------------------

unsafe extern "C" fn c_sign_init(h: CK_SESSION_HANDLE, mech: *mut CK_MECHANISM, key: CK_OBJECT_HANDLE) -> CK_RV {
    if mech.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // SAFETY: non-null pointer to a CK_MECHANISM.
    let m = unsafe { mech.read_unaligned() };
    with_session(h, |t, h| {
        if !t.logged_in {
            return CKR_USER_NOT_LOGGED_IN;
        }
        if key != KEY {
            return CKR_KEY_HANDLE_INVALID;
        }
        if m.mechanism != CKM_RSA_PKCS {
            return CKR_MECHANISM_INVALID;
        }
        let Some(s) = t.sessions.get_mut(&h) else { return CKR_SESSION_HANDLE_INVALID };
        if s.signing {
            return CKR_OPERATION_ACTIVE;
        }
        s.signing = true;
        CKR_OK
    })
}

/// RSASSA-PKCS1-v1_5 without the hash step (`CKM_RSA_PKCS`): EMSA padding of `input` (the
/// DigestInfo), then the private-key operation.
fn rsa_pkcs1_sign(key: &Key, input: &[u8]) -> Option<Vec<u8>> {
    if input.len() + 11 > key.bytes {
        return None;
    }
    let mut em = vec![0x00, 0x01];
    em.resize(key.bytes - input.len() - 1, 0xFF);
    em.push(0x00);
    em.extend_from_slice(input);
    let s = BigUint::from_bytes_be(&em).modpow(&key.d, &key.n).to_bytes_be();
    let mut out = vec![0; key.bytes - s.len()];
    out.extend_from_slice(&s);
    Some(out)
}

unsafe extern "C" fn c_sign(
    h: CK_SESSION_HANDLE,
    data: *mut CK_BYTE,
    len: CK_ULONG,
    signature: *mut CK_BYTE,
    sig_len: *mut CK_ULONG,
) -> CK_RV {
    if sig_len.is_null() || (data.is_null() && len > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    let input = if data.is_null() {
        Vec::new()
    } else {
        // SAFETY: `data` points to `len` bytes (PKCS#11 C_Sign).
        unsafe { std::slice::from_raw_parts(data, len as usize) }.to_vec()
    };
    with_session(h, |t, h| {
        let bytes = t.key.bytes;
        let Some(s) = t.sessions.get_mut(&h) else { return CKR_SESSION_HANDLE_INVALID };
        if !s.signing {
            return CKR_OPERATION_NOT_INITIALIZED;
        }
        // SAFETY: non-null pointer to the output length.
        let room = unsafe { sig_len.read_unaligned() } as usize;
        // SAFETY: as above.
        unsafe { sig_len.write_unaligned(bytes as CK_ULONG) };
        if signature.is_null() {
            // A length query: the operation stays active (PKCS#11 §5.2).
            return CKR_OK;
        }
        if room < bytes {
            return CKR_BUFFER_TOO_SMALL;
        }
        s.signing = false;
        match rsa_pkcs1_sign(&t.key, &input) {
            Some(out) => {
                // SAFETY: `signature` holds `room` ≥ bytes = out.len() bytes.
                unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), signature, out.len()) };
                CKR_OK
            }
            None => CKR_DATA_LEN_RANGE,
        }
    })
}

// --- the entry point ---------------------------------------------------------------------

struct FunctionList(CK_FUNCTION_LIST);
// SAFETY: an immutable table of function pointers.
unsafe impl Sync for FunctionList {}
unsafe impl Send for FunctionList {}

fn function_list() -> &'static FunctionList {
    static LIST: OnceLock<FunctionList> = OnceLock::new();
    LIST.get_or_init(|| {
        FunctionList(CK_FUNCTION_LIST {
            version: version(),
            C_Initialize: Some(c_initialize),
            C_Finalize: Some(c_finalize),
            C_GetInfo: Some(c_get_info),
            C_GetFunctionList: Some(C_GetFunctionList),
            C_GetSlotList: Some(c_get_slot_list),
            C_GetSlotInfo: Some(c_get_slot_info),
            C_GetTokenInfo: Some(c_get_token_info),
            C_GetMechanismList: Some(c_get_mechanism_list),
            C_GetMechanismInfo: Some(c_get_mechanism_info),
            C_OpenSession: Some(c_open_session),
            C_CloseSession: Some(c_close_session),
            C_CloseAllSessions: Some(c_close_all_sessions),
            C_GetSessionInfo: Some(c_get_session_info),
            C_Login: Some(c_login),
            C_Logout: Some(c_logout),
            C_GetAttributeValue: Some(c_get_attribute_value),
            C_FindObjectsInit: Some(c_find_objects_init),
            C_FindObjects: Some(c_find_objects),
            C_FindObjectsFinal: Some(c_find_objects_final),
            C_SignInit: Some(c_sign_init),
            C_Sign: Some(c_sign),
            ..Default::default()
        })
    })
}

/// The module's only export (PKCS#11 §5.2): the table of its functions.
///
/// # Safety
/// `list` must be null or point to writable storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn C_GetFunctionList(list: *mut *mut CK_FUNCTION_LIST) -> CK_RV {
    if list.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // The table is never written through this pointer (PKCS#11 treats it as const).
    let table = &function_list().0 as *const CK_FUNCTION_LIST as *mut CK_FUNCTION_LIST;
    // SAFETY: non-null pointer to a pointer.
    unsafe { list.write_unaligned(table) };
    CKR_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs1_padding_layout() {
        // With d = 1 the private-key operation is the identity, so the signature is the
        // encoded message itself: 00 01 FF…FF 00 input.
        let n = BigUint::from_bytes_be(&[0xFF; 64]);
        let key = Key { n, d: BigUint::from(1u8), bytes: 64 };
        let sig = rsa_pkcs1_sign(&key, b"digest-info").expect("fits");
        assert_eq!(sig.len(), 64);
        assert_eq!(&sig[..2], &[0x00, 0x01]);
        assert!(sig[2..64 - 12].iter().all(|b| *b == 0xFF));
        assert_eq!(sig[64 - 12], 0x00);
        assert_eq!(&sig[64 - 11..], b"digest-info");
        assert!(rsa_pkcs1_sign(&key, &[0; 54]).is_none(), "input too long for the key");
    }

    #[test]
    fn fields_are_blank_padded() {
        assert_eq!(&pad::<8>("abc"), b"abc     ");
        assert_eq!(&pad::<2>("abc"), b"ab");
    }
}

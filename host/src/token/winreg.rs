//! Reading one string value under `HKEY_LOCAL_MACHINE`, for the install folders smart-card
//! vendors record there (`host/data/middleware.json`, `windowsRegistry`). Windows only;
//! elsewhere there is no registry and every lookup finds nothing.
#![allow(unsafe_code)]

/// The string (REG_SZ or REG_EXPAND_SZ, expanded) at `key` (`HKLM\...`) and `value`, or
/// `None`. The host is a 64-bit program, so this is the registry's 64-bit view.
#[cfg(windows)]
pub fn local_machine_string(key: &str, value: &str) -> Option<String> {
    use std::ffi::c_void;
    use std::os::windows::ffi::{OsStrExt, OsStringExt};

    // winreg.h: HKEY_LOCAL_MACHINE is ((HKEY)(ULONG_PTR)((LONG)0x80000002)), sign-extended.
    const HKEY_LOCAL_MACHINE: isize = 0x8000_0002_u32 as i32 as isize;
    const RRF_RT_REG_SZ: u32 = 0x0000_0002;
    const ERROR_SUCCESS: i32 = 0;
    #[link(name = "advapi32")]
    extern "system" {
        fn RegGetValueW(
            hkey: isize,
            subkey: *const u16,
            value: *const u16,
            flags: u32,
            kind: *mut u32,
            data: *mut c_void,
            len: *mut u32,
        ) -> i32;
    }
    let subkey = key.strip_prefix(r"HKLM\")?;
    let wide = |s: &str| std::ffi::OsStr::new(s).encode_wide().chain([0]).collect::<Vec<u16>>();
    let (subkey, value) = (wide(subkey), wide(value));
    // RRF_RT_REG_SZ also takes REG_EXPAND_SZ values, expanded (asking for RRF_RT_REG_EXPAND_SZ
    // without RRF_NOEXPAND is ERROR_INVALID_PARAMETER).
    // SAFETY: NUL-terminated UTF-16 strings; `data` is null (then the call only reports the
    // size in bytes) or holds `*len` bytes, of which the call writes at most that many and
    // updates `*len`.
    let get = |data: *mut c_void, len: &mut u32| unsafe {
        RegGetValueW(
            HKEY_LOCAL_MACHINE,
            subkey.as_ptr(),
            value.as_ptr(),
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            data,
            len,
        )
    };
    let mut len: u32 = 0;
    if get(std::ptr::null_mut(), &mut len) != ERROR_SUCCESS || len == 0 || len > 64 * 1024 {
        return None;
    }
    let mut buf = vec![0u16; (len as usize).div_ceil(2)];
    if get(buf.as_mut_ptr().cast(), &mut len) != ERROR_SUCCESS {
        return None;
    }
    buf.truncate((len as usize) / 2);
    while buf.last() == Some(&0) {
        buf.pop();
    }
    Some(std::ffi::OsString::from_wide(&buf).to_string_lossy().into_owned()).filter(|s| !s.is_empty())
}

#[cfg(not(windows))]
pub fn local_machine_string(_key: &str, _value: &str) -> Option<String> {
    None
}

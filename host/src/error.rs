//! The host's internal errors. They become wire errors in exactly one place:
//! `dispatch::to_wire`. A PKCS#11 failure is wrapped ([`Pkcs11Failure`]) and read there by
//! what it means ([`Fault`]), so that nothing above the token layer names a cryptoki type.

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};
use paraphe_protocol::{LoginPurpose, PinStatus};
use std::fmt;

#[derive(Debug)]
pub enum Error {
    InvalidJson(String),
    UnknownCommand(String),
    InvalidArgument(String),
    UnsupportedAlgorithm(String),
    DigestLength {
        expected: usize,
        got: usize,
    },
    CertificateNotFound(String),
    PrivateKeyNotFound(String),
    PinRequired,
    SessionNotFound(String),
    /// The token's PKCS#11 session ended under a live login session (card pulled out and
    /// maybe put back): log in again.
    TokenSessionEnded,
    KeyUsageNotAllowed(String),
    /// `login` for `sign-raw` with a certificate that can log in (`x509::can_log_in`): a
    /// page-chosen digest signed by such a key could stand as another site's login token.
    RawSignatureRefused,
    /// The session was opened for another purpose than this command's.
    SessionPurposeMismatch {
        purpose: LoginPurpose,
        command: &'static str,
    },
    /// The token could not unwrap a wrapped key (`C_Decrypt` failed for a reason that
    /// depends on the data). One error whatever the token's reason, so that the answer
    /// never tells a padding failure from another: no padding oracle.
    UnwrapFailed,
    /// No module is loaded at all, or the one needed failed.
    ModuleUnavailable(String),
    /// A PKCS#11 call failed. `pin` is the token's PIN state read right after a PIN error.
    Pkcs11 {
        failure: Pkcs11Failure,
        pin: Option<PinStatus>,
    },
    /// A module call outlived its deadline; the module worker is stuck in it (message: which
    /// call, how long).
    ModuleNotResponding(String),
    /// The token failed while its card was leaving the reader (`CKR_GENERAL_ERROR` from
    /// OpenSC during a removal…): PC/SC says the card is gone.
    TokenRemoved {
        reader: String,
        /// The token's own error, for the message.
        error: String,
    },
    /// Any other cryptoki failure (library loading, bad attribute conversion…).
    Cryptoki(String),
    /// A program the host runs (NSS `modutil`) is not installed.
    ToolMissing(String),
    /// A program the host ran failed.
    ToolFailed(String),
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<CkError> for Error {
    fn from(e: CkError) -> Self {
        match e {
            CkError::Pkcs11(rv, function) => Error::pkcs11(rv, function),
            CkError::LibraryLoading(e) => Error::ModuleUnavailable(e.to_string()),
            other => Error::Cryptoki(other.to_string()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidJson(m) => write!(f, "invalid JSON request: {m}"),
            Error::UnknownCommand(c) => write!(f, "unknown command {c:?}"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::UnsupportedAlgorithm(m) => write!(f, "unsupported algorithm: {m}"),
            Error::DigestLength { expected, got } => {
                write!(f, "digest is {got} bytes, the hash algorithm makes {expected}")
            }
            Error::CertificateNotFound(fp) => write!(f, "no token present holds certificate {fp}"),
            Error::PrivateKeyNotFound(fp) => {
                write!(f, "no private key on the token matches certificate {fp}")
            }
            Error::PinRequired => f.write_str("the token needs a PIN and none was given"),
            Error::SessionNotFound(s) => write!(f, "login session {s:?} is unknown, ended or expired"),
            Error::TokenSessionEnded => f.write_str("the token's session ended (card removed or reset): log in again"),
            Error::KeyUsageNotAllowed(m) => write!(f, "key usage does not allow this: {m}"),
            Error::RawSignatureRefused => f.write_str(
                "this certificate can log in to sites, so its key signs only structured signatures (CAdES, XAdES), \
                 never a raw digest: such a signature could stand as a login token for another site",
            ),
            Error::SessionPurposeMismatch { purpose, command } => {
                write!(f, "this login session was opened for {}, not for {command}", purpose.name())
            }
            Error::UnwrapFailed => f.write_str(
                "the token could not unwrap the key (not addressed to this key, or damaged or altered data)",
            ),
            Error::ModuleUnavailable(m) => write!(f, "PKCS#11 module unavailable: {m}"),
            Error::Pkcs11 { failure, .. } => {
                let rv = failure.rv;
                write!(f, "{} failed: {rv:?} ({rv})", failure.function_name())
            }
            Error::ModuleNotResponding(m) => f.write_str(m),
            Error::TokenRemoved { reader, error } => write!(f, "{error}: the card was removed from {reader}"),
            Error::Cryptoki(m) => write!(f, "PKCS#11 error: {m}"),
            Error::ToolMissing(m) | Error::ToolFailed(m) => f.write_str(m),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// `function` failed with `rv`.
    pub fn pkcs11(rv: RvError, function: Function) -> Self {
        Error::Pkcs11 { failure: Pkcs11Failure::new(rv, function), pin: None }
    }
}

/// A PKCS#11 call that failed: the function and the token's return value (PKCS#11 3.0
/// §5.1). The token layer reads the return value itself ([`Pkcs11Failure::rv`]); the rest of
/// the host reads what it means ([`Pkcs11Failure::fault`]) and the function's name.
#[derive(Clone, Copy, Debug)]
pub struct Pkcs11Failure {
    rv: RvError,
    function: Function,
}

/// What a PKCS#11 failure means to the host: the return values the user or the command layer
/// can act on, grouped; everything else is [`Fault::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    PinIncorrect,
    PinLocked,
    /// Too short, too long, or characters the token refuses.
    PinInvalid,
    PinExpired,
    /// The card or its session is gone (`CKR_DEVICE_REMOVED`, `CKR_TOKEN_NOT_PRESENT`,
    /// `CKR_SESSION_HANDLE_INVALID`, `CKR_SESSION_CLOSED`).
    TokenGone,
    TokenNotRecognized,
    /// The person cancelled (PIN pad, middleware dialog).
    Cancelled,
    /// `CKR_MECHANISM_INVALID`, `CKR_MECHANISM_PARAM_INVALID`.
    MechanismRefused,
    /// `CKR_ARGUMENTS_BAD` from `C_SignInit` or `C_DecryptInit`: SoftHSM 2.6 answers so an
    /// OAEP hash it does not do.
    MechanismArgumentsRefused,
    /// `CKR_KEY_FUNCTION_NOT_PERMITTED`, `CKR_KEY_TYPE_INCONSISTENT`.
    KeyRefused,
    UserNotLoggedIn,
    /// The input's length or content (`CKR_DATA_LEN_RANGE`, `CKR_ENCRYPTED_DATA_*`).
    DataRefused,
    Other,
}

impl Pkcs11Failure {
    pub fn new(rv: RvError, function: Function) -> Self {
        Self { rv, function }
    }

    /// The token's return value (token layer only).
    pub fn rv(&self) -> RvError {
        self.rv
    }

    /// `C_Login` for `Function::Login`: the name the PKCS#11 specification and module logs use.
    pub fn function_name(&self) -> String {
        format!("C_{:?}", self.function)
    }

    /// Whether the failing call was `C_Decrypt` itself (not its `C_DecryptInit`).
    pub fn is_decrypt(&self) -> bool {
        matches!(self.function, Function::Decrypt)
    }

    pub fn fault(&self) -> Fault {
        match self.rv {
            RvError::PinIncorrect => Fault::PinIncorrect,
            RvError::PinLocked => Fault::PinLocked,
            RvError::PinLenRange | RvError::PinInvalid => Fault::PinInvalid,
            RvError::PinExpired => Fault::PinExpired,
            RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed => Fault::TokenGone,
            RvError::TokenNotRecognized => Fault::TokenNotRecognized,
            RvError::FunctionCanceled => Fault::Cancelled,
            RvError::MechanismInvalid | RvError::MechanismParamInvalid => Fault::MechanismRefused,
            RvError::ArgumentsBad if matches!(self.function, Function::DecryptInit | Function::SignInit) => {
                Fault::MechanismArgumentsRefused
            }
            RvError::KeyFunctionNotPermitted | RvError::KeyTypeInconsistent => Fault::KeyRefused,
            RvError::UserNotLoggedIn => Fault::UserNotLoggedIn,
            RvError::DataLenRange | RvError::EncryptedDataLenRange | RvError::EncryptedDataInvalid => {
                Fault::DataRefused
            }
            _ => Fault::Other,
        }
    }
}

/// The name of the PKCS#11 function that unwraps keys, for [`Error::UnwrapFailed`].
pub const UNWRAP_FUNCTION: &str = "C_Decrypt";

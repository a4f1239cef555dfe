// @ts-check
// The WASM core, loaded and typed. A module service worker may not use dynamic import(), so
// the wasm-bindgen `--target web` glue is imported statically and only instantiation is async.
//
// The core speaks JSON text across the boundary; this module is the one place that turns
// objects into that text and back, so the rest of the extension calls typed functions
// (`validateRequest(text)`, `certificateChoices(list, usage)`…). The types below mirror the
// Rust structs named in each comment (wasm/src); wasm-bindgen's pkg/paraphe_wasm.d.ts types
// the raw exports.
//
// Two modules: the core (paraphe_wasm: page requests, origins, host requests, Web eID, `Hasher`,
// `PliDecryptor`), instantiated at every start of the background, and the signing module
// (paraphe_signing, signing-wasm/: certificate display, signature formats, LiberSign),
// instantiated on the first call that needs it (`signing()`), so that a start that only answers
// a `ping`, checks an origin or opens a pli header does not compile it. Its glue is imported
// statically all the same (no `import()` in a module service worker); only its WASM waits.
import init, * as wasm from '../pkg/paraphe_wasm.js';
import initSigning, * as signingWasm from '../pkg/paraphe_signing.js';
import { api } from '../common/api.js';

export const ready = init({ module_or_path: api.runtime.getURL('pkg/paraphe_wasm_bg.wasm') });
let loaded = false;
ready.then(() => { loaded = true; });

/** @type {Promise<typeof signingWasm> | undefined} */
let signingReady;
/**
 * The signing module's raw exports, instantiated on the first call (then the same promise).
 * A failed instantiation is not kept: the next call tries again.
 * @returns {Promise<typeof signingWasm>}
 */
export function signing() {
  signingReady ??= initSigning({ module_or_path: api.runtime.getURL('pkg/paraphe_signing_bg.wasm') }).then(
    () => signingWasm,
    (e) => { signingReady = undefined; throw e; });
  return signingReady;
}

/**
 * The core's raw exports; only valid after `await ready`. Use the typed functions below.
 * @returns {typeof wasm}
 */
export function core() {
  if (!loaded) throw new Error('WASM core used before it was ready');
  return wasm;
}

// ---- types (serde's camelCase forms of the Rust structs) ------------------------------------

/** @typedef {'sha256' | 'sha384' | 'sha512'} HashAlgorithm */
/** @typedef {'signing' | 'authentication' | 'encryption' | 'any'} Usage */
/** @typedef {'authenticate' | 'sign-structured' | 'sign-raw' | 'decrypt'} LoginPurpose */

/**
 * A document digest of a validated `signHash` (request.rs `Digest`).
 * @typedef {{hex: string, base64: string, hashAlgorithm: HashAlgorithm, name: string | null, size: number | null}} Digest
 */

/**
 * A page request that passed validation (request.rs `Validated`).
 * @typedef {{type: 'ping'} | {type: 'status'} | {type: 'listCertificates', usage: Usage}
 *   | SignHashRequest | {type: 'authenticate', challengeNonce: string}} PageRequest
 */
/**
 * @typedef {object} SignHashRequest
 * @property {'signHash'} type
 * @property {Digest[]} items
 * @property {string | null} certificate SHA-256 fingerprint, lowercase hex
 * @property {string | null} scheme absent: from the key type
 * @property {string | null} ecdsaEncoding
 * @property {'raw' | 'cades' | 'xades' | 'pades'} format
 * @property {object | null} policy CAdES only
 * @property {boolean} visible PAdES only: the signature drawn on the last page
 */

/** A certificate as the consent window shows it (certs.rs `Choice`). @typedef {import('../common/types.js').Choice} Choice */

/**
 * Step 1 of a format (formats.rs `Prepared`): the card signs `digest` with `scheme`.
 * @typedef {{digest: string, hashAlgorithm: HashAlgorithm, scheme: string, state: object, timestamp: boolean}} Prepared
 */

/**
 * One digest of a LiberSign request (libersign.rs `PlanEntry`); entries with the same `info` are answered together.
 * @typedef {{info: number, kind: 'cms' | 'pes' | 'pades', label: string | null, hex: string, hashAlgorithm: HashAlgorithm, job: object}} LibersignPlanEntry
 */

/** A host request's id (native.js numbers them). @typedef {number} RequestId */

// ---- stateful objects (free() them when done) ---------------------------------------------

/**
 * A document digest computed chunk by chunk (`sha256`, `sha384`, `sha512`; anything else throws).
 * @param {string} algorithm
 */
export const newHasher = (algorithm) => new (core().Hasher)(algorithm);

/** A pli opened chunk by chunk (wasm/src/pli.rs gives the order of calls). */
export const newPliDecryptor = () => new (core().PliDecryptor)();

// ---- page requests, origins, certificates -------------------------------------------------

/** @returns {number} */
export const protocolVersion = () => core().protocol_version();

/**
 * Throws `ORIGIN_NOT_ALLOWED` (JSON text, see ParapheError.from) unless `origin` may use the page API.
 * @param {string} origin @param {boolean} allowLoopbackHttp
 */
export const checkOrigin = (origin, allowLoopbackHttp) => core().check_origin(origin, allowLoopbackHttp);

/**
 * A page request (JSON text), validated and normalized (wasm/src/request.rs).
 * @param {string} text
 * @returns {PageRequest}
 */
export const validateRequest = (text) => JSON.parse(core().validate_request(text));

/**
 * Throws INVALID_REQUEST unless a page request that carries files (`signDocument`,
 * `signDocuments`, `decrypt`; each file described as `{blob: true}`) is well formed.
 * @param {string} text
 */
export const validateFiles = (text) => core().validate_files(text);

/**
 * The certificates of a host `list-certificates` result fit for `usage`, decoded, at the present time.
 * @param {object} list @param {Usage} usage
 * @returns {Promise<Choice[]>}
 */
export const certificateChoices = async (list, usage) =>
  JSON.parse((await signing()).certificate_choices(JSON.stringify(list), usage, Date.now()));

/**
 * The SubjectPublicKeyInfo (base64 DER) of a certificate (base64 DER), for WebCrypto.
 * @param {string} certificate
 * @returns {Promise<string>}
 */
export const certificateSpki = async (certificate) => (await signing()).certificate_spki(certificate);

// ---- host request texts (native.call's `build(id)`) ----------------------------------------

/**
 * @param {RequestId} id @param {string} fingerprint @param {string | undefined} pin absent: PIN pad
 * @param {number | undefined} ttlSeconds absent: until logout @param {LoginPurpose} purpose
 * @param {{token?: string, ckaId?: string}} [where] the choice's token and CKA_ID (list-certificates):
 *   the host reads that one certificate instead of every token's
 * @returns {string}
 */
export const loginRequest = (id, fingerprint, pin, ttlSeconds, purpose, where = {}) =>
  core().login_request(id, fingerprint, pin, ttlSeconds, purpose, where.token, where.ckaId);

/**
 * `sign` request text; `scheme` and `ecdsaEncoding` empty: the key type's defaults.
 * @param {RequestId} id @param {string} session @param {string} digest base64
 * @param {string} hashAlgorithm @param {string} scheme @param {string} keyType @param {string} ecdsaEncoding
 * @returns {string}
 */
export const signRequest = (id, session, digest, hashAlgorithm, scheme, keyType, ecdsaEncoding) =>
  core().sign_request(id, session, digest, hashAlgorithm, scheme, keyType, ecdsaEncoding);

/**
 * @param {RequestId} id @param {string} session @param {string} origin @param {string} challengeNonce
 * @returns {string}
 */
export const authenticateRequest = (id, session, origin, challengeNonce) =>
  core().authenticate_request(id, session, origin, challengeNonce);

/** @param {RequestId} id @param {string} session @returns {string} */
export const logoutRequest = (id, session) => core().logout_request(id, session);

// ---- signature formats (formats.rs) and LiberSign (libersign.rs) ---------------------------

/**
 * Step 1 of a format: what the card signs for `job` (a `formats::Job`) with `certificate`.
 * `timestamp`: a time-stamp authority is configured (CAdES and PAdES at baseline B-T: the
 * result's `timestamp` is then true, and the signature is finished by `formatFinishTimestamped`).
 * @param {object} job @param {string} certificate DER, base64 @param {boolean} [timestamp]
 * @returns {Promise<Prepared>}
 */
export const formatPrepare = async (job, certificate, timestamp = false) =>
  JSON.parse((await signing()).format_prepare(JSON.stringify(job), certificate, Date.now(), timestamp));

/**
 * The RFC 3161 TimeStampReq (DER, base64) for a B-T signature: SHA-256 of its signature value.
 * @param {object} state @param {string} signature base64 @param {string} nonce 8 to 32 random bytes, base64
 * @returns {Promise<string>}
 */
export const formatTimestampRequest = async (state, signature, nonce) =>
  (await signing()).format_timestamp_request(JSON.stringify(state), signature, nonce);

/**
 * Step 2 of a B-T signature: the signed object (base64) with the authority's token, from its
 * `response` (the TimeStampResp bytes) to `formatTimestampRequest` with the same nonce. Throws
 * TIMESTAMP_FAILED (JSON text) unless the response is a granted token for it.
 * @param {object} state @param {string} signature base64 @param {Uint8Array} response @param {string} nonce base64
 * @returns {Promise<string>}
 */
export const formatFinishTimestamped = async (state, signature, response, nonce) =>
  (await signing()).format_finish_timestamped(JSON.stringify(state), signature, response, nonce);

/**
 * Step 2: the signed object (base64) from step 1's `state` and the card's signature.
 * @param {object} state @param {string} signature base64
 * @returns {Promise<string>}
 */
export const formatFinish = async (state, signature) => (await signing()).format_finish(JSON.stringify(state), signature);

/**
 * A LiberSign answer from a finished format's bytes (libersign.rs): base64 of a PEM
 * `-----BEGIN PKCS7-----` document for `CMS` (what s2low's openssl commands read), the
 * bytes unchanged for XAdES.
 * @param {string} kind @param {string} signature base64
 * @returns {Promise<string>}
 */
export const libersignAnswer = async (kind, signature) => (await signing()).libersign_answer(kind, signature);

/**
 * LiberSign `signatureInformations` → the digests to sign, in answer order, with their jobs.
 * @param {unknown} infos
 * @returns {Promise<LibersignPlanEntry[]>}
 */
export const libersignPlan = async (infos) => JSON.parse((await signing()).libersign_plan(JSON.stringify(infos ?? null)));

/**
 * The signing certificates of a `list-certificates` result as LiberSign's wrappers read them.
 * @param {object} list
 * @returns {Promise<object[]>}
 */
export const libersignCertificates = async (list) => JSON.parse((await signing()).libersign_certificates(JSON.stringify(list), Date.now()));

// ---- Web eID (webeid.rs): serialized web-eid.js errors --------------------------------------

/**
 * A serialized web-eid.js error (`{name, message, code, …}`).
 * @typedef {{name: string, message: string, code: string, [field: string]: unknown}} WebEidError
 */

/**
 * A `web-eid:*` request (JSON text), validated; throws a serialized Web eID error (JSON text).
 * @param {string} text @param {string} extensionVersion
 * @returns {any} the normalized request (`action` without its prefix, and its fields)
 */
export const webeidValidate = (text, extensionVersion) => JSON.parse(core().webeid_validate(text, extensionVersion));

/**
 * A Paraphe error as a Web eID one (a code that already is a Web eID one is kept).
 * @param {string} code @param {string} message
 * @returns {WebEidError}
 */
export const webeidError = (code, message) => JSON.parse(core().webeid_error(code, message));

/**
 * `{library, extension, nativeApp}` of `status`; `host` undefined: no `nativeApp`.
 * @param {string} library @param {string} extension @param {string | undefined} host
 * @returns {{library: string, extension: string, nativeApp?: string}}
 */
export const webeidVersions = (library, extension, host) => JSON.parse(core().webeid_versions(library, extension, host));

/** @param {string} keyType @returns {object[]} */
export const webeidSignatureAlgorithms = (keyType) => JSON.parse(core().webeid_signature_algorithms(keyType));

/** @param {string} keyType @param {string} hashAlgorithm @returns {object} */
export const webeidSignatureAlgorithm = (keyType, hashAlgorithm) =>
  JSON.parse(core().webeid_signature_algorithm(keyType, hashAlgorithm));

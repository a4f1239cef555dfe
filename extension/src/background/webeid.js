// @ts-check
// Web eID compatibility, background side: the `web-eid:*` requests of web-eid.js 2.x pages
// (relayed by content/webeid.js) answered with Paraphe's own operations. Mapping and
// differences: docs/WEB-EID.md. Validation, error mapping and version strings are in the WASM
// core (wasm/src/webeid.rs); this module only runs the operations.
//
//   web-eid:status                  → host hello                         → {library, extension, nativeApp}
//   web-eid:authenticate            → authentication cert, consent + PIN → web-eid:1.0 token
//   web-eid:get-signing-certificate → signing cert chosen in the consent window (no PIN)
//   web-eid:sign                    → that very certificate, consent + PIN → {signature, signatureAlgorithm}
//
// The answer is always a complete response message (`<action>-success` or `-failure`): this
// module never throws, so the content script decides nothing.
//
// `web-eid:sign` signs a hash the page chose: only with a certificate that cannot log in
// (docs/SECURITY.md, « Dual-use keys »); `get-signing-certificate` offers only those. The
// versions in `status` carry Paraphe's own versions only for sites the person allowed.
import { api, ParapheError } from '../common/api.js';
import { authenticate, validChoices } from './authenticate.js';
import * as batch from './batch.js';
import { noSuitableCertificate } from './choices.js';
import * as core from './core.js';
import * as consent from './consent.js';
import * as disclosure from './disclosure.js';
import * as native from './native.js';
import * as sessions from './sessions.js';

const VERSION = api.runtime.getManifest().version;
/**
 * A `web-eid:*` request as the core validated it (core.webeidValidate; wasm/src/webeid.rs):
 * `action` without its prefix, and that action's fields.
 * @typedef {{
 *   action: string, libraryVersion?: string, challengeNonce?: string, timeoutMs?: number,
 *   fingerprint?: string, hex?: string, base64?: string, hashAlgorithm?: string,
 * }} WebEidRequest
 * @typedef {WebEidRequest & {hex: string, base64: string, hashAlgorithm: string}} WebEidSignRequest
 */

const ACTIONS = ['web-eid:status', 'web-eid:authenticate', 'web-eid:get-signing-certificate', 'web-eid:sign'];

/**
 * Serialized web-eid.js error (`{name, message, code, …}`) for whatever was thrown.
 * @param {unknown} e
 * @returns {import('./core.js').WebEidError}
 */
function serialized(e) {
  if (typeof e === 'string') {
    try {
      const o = JSON.parse(e);
      if (typeof o?.code === 'string' && o.code.startsWith('ERR_WEBEID_')) return o;
    } catch { /* not one of ours */ }
  }
  const err = ParapheError.from(e);
  return core.webeidError(err.code, err.message);
}

/**
 * Answers one request. `text` is the page's message as JSON text; `pageOrigin()` resolves
 * to the sender frame's origin as the browser reported it (origin.js), or rejects.
 * @param {unknown} text the content script's (any value: validated here)
 * @param {() => Promise<string>} pageOrigin
 * @param {chrome.runtime.MessageSender} sender
 */
export async function handle(text, pageOrigin, sender) {
  let action = 'web-eid:status';
  let allowed = false;
  try {
    action = ACTIONS.find((a) => a === JSON.parse(/** @type {string} */ (text))?.action) ?? action;
  } catch { /* validation below says why */ }
  try {
    const origin = await pageOrigin();
    allowed = await disclosure.allowed(origin);
    /** @type {WebEidRequest} */
    const request = core.webeidValidate(String(text), VERSION);
    const result = await run(request, origin, sender, allowed);
    return { action: `${action}-success`, ...result };
  } catch (e) {
    const error = serialized(e);
    // As the Web eID extension does for status failures: which extension answered.
    if (action === 'web-eid:status') error.extension = core.webeidVersions('', allowed ? VERSION : '', undefined).extension;
    return { action: `${action}-failure`, error };
  }
}

/**
 * @param {WebEidRequest} request @param {string} origin @param {chrome.runtime.MessageSender} sender
 * @param {boolean} allowed the site may see Paraphe's versions (disclosure.js)
 */
async function run(request, origin, sender, allowed) {
  const tab = { tabTitle: sender.tab?.title ?? '', tabId: sender.tab?.id };
  switch (request.action) {
    case 'status': {
      const hello = await native.helloInfo();
      // Paraphe's versions ride as SemVer build metadata, for allowed sites only.
      const { library, extension, nativeApp } = core.webeidVersions(/** @type {string} */ (request.libraryVersion),
        allowed ? VERSION : '', allowed ? hello.version : '');
      return { library, extension, nativeApp };
    }
    case 'authenticate': {
      const token = await authenticate({ origin, challengeNonce: /** @type {string} */ (request.challengeNonce), ...tab, timeoutMs: request.timeoutMs });
      const { unverifiedCertificate, algorithm, signature, format, appVersion } = token;
      return { unverifiedCertificate, algorithm, signature, format, appVersion };
    }
    case 'get-signing-certificate':
      return signingCertificate(request, origin, tab);
    case 'sign':
      return sign(/** @type {WebEidSignRequest} */ (request), origin, tab);
    default:
      throw new ParapheError('INVALID_REQUEST', 'unknown action');
  }
}

/**
 * The requesting tab, as consent windows show it (`tabTitle`) and close with it (`tabId`).
 * @typedef {{tabTitle: string, tabId: number | undefined}} Tab
 */

/**
 * What `web-eid:sign` may use: valid signing certificates that cannot log in.
 * @param {WebEidRequest} request @param {string} origin @param {Tab} tab
 * @param {string} [fingerprint] the certificate the page named
 */
async function rawSigningChoices(request, origin, tab, fingerprint) {
  let choices = await validChoices('signing');
  if (fingerprint) choices = choices.filter((c) => c.fingerprint === fingerprint);
  const usable = choices.filter((c) => !c.loginCapable);
  if (usable.length > 0) return usable;
  const err = choices.length > 0
    ? new ParapheError('RAW_SIGNATURE_REFUSED', 'the signing certificate can also log in to web sites: it never signs a hash chosen by a page')
    : new ParapheError('NO_CERTIFICATE', fingerprint
      ? 'the certificate to sign with is not a valid signing certificate on a connected token'
      : 'no valid signing certificate on a connected token');
  return noSuitableCertificate({ kind: fingerprint ? 'sign' : 'certificate', origin, ...tab }, err,
    { timeoutMs: request.timeoutMs });
}

/**
 * The person picks a signing (nonRepudiation) certificate; Web eID asks even for one.
 * @param {WebEidRequest} request @param {string} origin @param {Tab} tab
 */
async function signingCertificate(request, origin, tab) {
  const release = native.hold();
  try {
    const choices = await rawSigningChoices(request, origin, tab);
    const view = { kind: 'certificate', origin, ...tab, items: [], choices };
    return await consent.ask(view, async (choice) => ({
      certificate: choice.certificate,
      supportedSignatureAlgorithms: core.webeidSignatureAlgorithms(choice.keyType),
    }), { timeoutMs: request.timeoutMs });
  } finally {
    release();
  }
}

/**
 * Signs the page's hash with the key of the very certificate it names (byte-identical).
 * @param {WebEidSignRequest} request @param {string} origin @param {Tab} tab
 */
async function sign(request, origin, tab) {
  const release = native.hold();
  try {
    const choices = await rawSigningChoices(request, origin, tab, request.fingerprint);
    const item = { hex: request.hex, hashAlgorithm: request.hashAlgorithm, name: '' };
    const view = { kind: 'sign', origin, ...tab, items: [item], choices, purpose: 'sign-raw' };
    return await consent.ask(view, async (choice, pin, window) => {
      const signatureAlgorithm = core.webeidSignatureAlgorithm(choice.keyType, request.hashAlgorithm);
      return sessions.withLogin(choice, pin, async (session) => {
        // Default scheme for the key: PKCS#1 v1.5 for RSA, ECDSA raw r‖s for EC, as Web eID.
        const [result] = await batch.run([{ raw: { base64: request.base64, hashAlgorithm: request.hashAlgorithm, pageChosen: true } }],
          { choice, session, window });
        return { signature: result.signature, signatureAlgorithm };
      }, 'sign-raw');
    }, { timeoutMs: request.timeoutMs });
  } finally {
    release();
  }
}

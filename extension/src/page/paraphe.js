// @ts-check
// Paraphe client library for portal developers (ES module, no dependencies).
// Talks to the Paraphe extension through the window.postMessage protocol of
// docs/PAGE-API.md. Every failure is a ParapheError with a stable `code`.
//
//   import * as paraphe from './paraphe.js';
//   const { signatures, certificate } = await paraphe.signHash({ hash: hex, hashAlgorithm: 'sha256' });

export class ParapheError extends Error {
  /** @param {string} code @param {string} [message] @param {object} [details] the error's other fields */
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = 'ParapheError';
    this.code = code;
    Object.assign(this, details);
  }
}

/**
 * A report of long work, as paraphe.d.ts describes it: documents signed so far (each
 * `signature` as it is made), or a pli's bytes read so far.
 * @typedef {{done: number, total: number, signature?: object}} Progress
 */

const DETECT_TIMEOUT_MS = 1500;
/** Signing waits for a person: the extension gives up after 5 minutes (TIMEOUT). */
const REQUEST_TIMEOUT_MS = 6 * 60_000;

let counter = 0;

function extensionPresent() {
  return !!document.documentElement?.dataset.parapheExtension;
}

/**
 * Resolves when the content script has announced itself, or after a short wait.
 * @param {number} timeoutMs
 * @returns {Promise<boolean>}
 */
function waitForExtension(timeoutMs) {
  if (extensionPresent()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onMessage = (/** @type {MessageEvent} */ ev) => {
      if (ev.source === window && ev.data?.paraphe === 'ready') done(true);
    };
    const timer = setTimeout(() => done(extensionPresent()), timeoutMs);
    /** @param {boolean} ok */
    function done(ok) {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      resolve(ok);
    }
    window.addEventListener('message', onMessage);
  });
}

/**
 * @param {object} request
 * @param {number} [timeoutMs]
 * @param {((p: Progress) => void) | null} [onProgress]
 */
async function send(request, timeoutMs = REQUEST_TIMEOUT_MS, onProgress = null) {
  if (window.origin === 'null') {
    // A sandboxed document (CSP sandbox, <iframe sandbox>): the extension refuses it anyway.
    throw new ParapheError('ORIGIN_NOT_ALLOWED', 'a sandboxed document (opaque origin) cannot use Paraphe');
  }
  if (!(await waitForExtension(DETECT_TIMEOUT_MS))) {
    throw new ParapheError('EXTENSION_UNAVAILABLE', 'the Paraphe extension is not installed or not enabled on this page');
  }
  const id = `paraphe-${Date.now()}-${++counter}`;
  return new Promise((resolve, reject) => {
    const expire = () => {
      window.removeEventListener('message', onMessage);
      reject(new ParapheError('TIMEOUT', 'no answer from the extension'));
    };
    let timer = setTimeout(expire, timeoutMs);
    /** @param {MessageEvent} ev */
    function onMessage(ev) {
      const m = ev.data;
      if (onProgress && ev.source === window && m?.paraphe === 'progress' && m.id === id) {
        // Long work (a large pli) is alive while it reports progress.
        clearTimeout(timer);
        timer = setTimeout(expire, timeoutMs);
        onProgress({ done: m.done, total: m.total, ...(m.signature ? { signature: m.signature } : {}) });
        return;
      }
      if (ev.source !== window || m?.paraphe !== 'response' || m.id !== id) return;
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      if (m.error) {
        const { code, message, ...details } = m.error;
        reject(new ParapheError(code, message, details));
      } else {
        resolve(m.result);
      }
    }
    window.addEventListener('message', onMessage);
    window.postMessage({ paraphe: 'request', id, request }, window.location.origin);
  });
}

/** True when the extension answers on this page. */
export async function isAvailable() {
  try {
    await send({ type: 'ping' }, 5000);
    return true;
  } catch {
    return false;
  }
}

/** Host reachability and connected tokens. */
export function status() {
  return send({ type: 'status' }, 60_000);
}

/**
 * Certificates on connected tokens; usage defaults to "signing". The first time on a site,
 * the person is asked whether the site may see them (USER_CANCELLED if not).
 */
/** @param {{usage?: string}} [args] */
export async function listCertificates({ usage } = {}) {
  const r = await send({ type: 'listCertificates', ...(usage ? { usage } : {}) });
  return r.certificates;
}

/** @param {{certificate?: string, scheme?: string, ecdsaEncoding?: string, format?: string, signaturePolicy?: object, visible?: boolean}} args */
function options({ certificate, scheme, ecdsaEncoding, format, signaturePolicy, visible }) {
  return {
    ...(visible !== undefined ? { visible } : {}),
    ...(certificate ? { certificate } : {}),
    ...(scheme ? { scheme } : {}),
    ...(ecdsaEncoding ? { ecdsaEncoding } : {}),
    ...(format ? { format } : {}),
    ...(signaturePolicy ? { signaturePolicy } : {}),
  };
}

/**
 * Signs one digest ({hash, hashAlgorithm, name}) or several ({hashes: [{digest, hashAlgorithm, name, size}]})
 * under one consent and one PIN entry. `format: 'cades'` returns detached `.p7s` files
 * instead of bare signature values, `format: 'xades'` detached XAdES jetons (`.xml`, named
 * SHA-256 digests only). `onProgress({done, total, signature})` receives each
 * signature as soon as it is made.
 * @param {{hash?: string, hashAlgorithm?: string, name?: string, hashes?: object[], onProgress?: (p: Progress) => void}
 *   & Parameters<typeof options>[0]} args
 */
export function signHash(args) {
  const hashes = args.hashes
    ?? [{ digest: args.hash, hashAlgorithm: args.hashAlgorithm ?? 'sha256', ...(args.name ? { name: args.name } : {}) }];
  return send({ type: 'signHash', hashes, ...options(args) }, REQUEST_TIMEOUT_MS, args.onProgress);
}

/**
 * Signs a File or Blob. The extension reads it chunk by chunk and hashes it (the file never
 * leaves the browser; only its digest reaches the card). `format: 'pades'`: a PDF, signed
 * inside; each signature's `signature` is then the signed PDF, a Blob.
 */
/** @param {Blob} file @param {Record<string, any>} [args] */
export function signDocument(file, args = {}) {
  return send({
    type: 'signDocument',
    file,
    hashAlgorithm: args.hashAlgorithm ?? 'sha256',
    ...(args.name ? { name: args.name } : {}),
    ...options(args),
  }, REQUEST_TIMEOUT_MS, args.onProgress);
}

/**
 * Signs several Files or Blobs (or `{file, name}`) under one consent and one PIN entry: a
 * parapheur's batch. The consent window lists each document (name, size, digest).
 * `onProgress({done, total, signature})` receives each signature as soon as it is made
 * (with `format: 'pades'`, each signed PDF as a Blob). If
 * the batch stops in the middle (card removed, host gone), the ParapheError says which
 * documents were signed (`signed`, with their `signatures`) and which were not (`notSigned`).
 */
/** @param {(Blob | {file: Blob, name?: string})[]} files @param {Record<string, any>} [args] */
export function signDocuments(files, args = {}) {
  const documents = files.map((f) => (f instanceof Blob ? { file: f } : { file: f.file, ...(f.name ? { name: f.name } : {}) }));
  return send({
    type: 'signDocuments',
    documents,
    hashAlgorithm: args.hashAlgorithm ?? 'sha256',
    ...options(args),
  }, REQUEST_TIMEOUT_MS, args.onProgress);
}

/** @param {string | ArrayBuffer | ArrayBufferView} data */
function toBase64(data) {
  if (typeof data === 'string') return data; // already base64
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, /** @type {any} */ (bytes.subarray(i, i + 0x8000)));
  return btoa(s);
}

/**
 * Signs bytes the server prepared (iParapheur 5 / EU DSS `dataToSign`): the extension hashes
 * them (SHA-256 by default) and the card signs the digest, so the result is a SHA256withRSA
 * (or, for EC keys, SHA256withECDSA, DER by default) signature of the bytes. `data` is a
 * Uint8Array, an ArrayBuffer or base64 text, or an array of `{data, name}` signed under one
 * consent and one PIN entry.
 */
/** @typedef {string | ArrayBuffer | ArrayBufferView} Bytes raw, or base64 text */
/**
 * @param {Bytes | {data: Bytes, name?: string}[]} data one value, or `[{data, name}]`
 * @param {{hashAlgorithm?: string, name?: string} & Parameters<typeof options>[0]} [args]
 */
export function signData(data, args = {}) {
  const { hashAlgorithm, name } = args;
  const wire = Array.isArray(data)
    ? data.map((d) => ({ data: toBase64(d.data), ...(d.name ? { name: d.name } : {}) }))
    : toBase64(data);
  return send({
    type: 'signData',
    data: wire,
    ...(hashAlgorithm ? { hashAlgorithm } : {}),
    ...(name && !Array.isArray(data) ? { name } : {}),
    ...options(args),
  });
}

/**
 * Logs in with the card: the person confirms "log in to <this site>" and types the PIN; the
 * card's authentication key signs the server's challenge bound to this page's origin (as
 * the browser reports it). Resolves with the `web-eid:1.0` token
 * `{unverifiedCertificate, algorithm, signature, format, appVersion}` for the server to check
 * (e.g. with paraphe-verifier or any Web eID validator).
 */
/** @param {{challengeNonce: string}} args */
export async function authenticate({ challengeNonce }) {
  const r = await send({ type: 'authenticate', challengeNonce });
  return r.token;
}

/**
 * Opens a pli (an encrypted bid: CMS EnvelopedData or AuthEnvelopedData, DER or BER)
 * addressed to a certificate on the person's card. The extension reads the Blob in chunks,
 * the person confirms in the Paraphe window and types the PIN, the card unwraps the key,
 * and the extension decrypts the content. Resolves, only once all of it was decrypted and
 * checked (padding, or the AES-GCM tag), with `{plaintext: Blob, name, size, certificate,
 * contentEncryption, authenticated}`. `onProgress({done, total})` reports the bytes read.
 * For very large plis (hundreds of MB), prefer the extension's « Ouvrir un pli » page,
 * which saves to disk without holding the plaintext.
 */
/** @param {Blob} file @param {{name?: string, onProgress?: (p: {done: number, total: number}) => void}} [args] */
export function decrypt(file, { name, onProgress } = {}) {
  return send({ type: 'decrypt', file, ...(name ? { name } : {}) }, REQUEST_TIMEOUT_MS, onProgress ?? (() => {}));
}

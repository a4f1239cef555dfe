// Paraphe client library for portal developers (ES module, no dependencies).
// Talks to the Paraphe extension through the window.postMessage protocol of
// docs/PAGE-API.md. Every failure is a ParapheError with a stable `code`.
//
//   import * as paraphe from './paraphe.js';
//   const { signatures, certificate } = await paraphe.signHash({ hash: hex, hashAlgorithm: 'sha256' });

export class ParapheError extends Error {
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = 'ParapheError';
    this.code = code;
    Object.assign(this, details);
  }
}

const DETECT_TIMEOUT_MS = 1500;
/** Signing waits for a person: the extension gives up after 5 minutes (TIMEOUT). */
const REQUEST_TIMEOUT_MS = 6 * 60_000;

let counter = 0;

function extensionPresent() {
  return !!document.documentElement?.dataset.parapheExtension;
}

/** Resolves when the content script has announced itself, or after a short wait. */
function waitForExtension(timeoutMs) {
  if (extensionPresent()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onMessage = (ev) => {
      if (ev.source === window && ev.data?.paraphe === 'ready') done(true);
    };
    const timer = setTimeout(() => done(extensionPresent()), timeoutMs);
    function done(ok) {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      resolve(ok);
    }
    window.addEventListener('message', onMessage);
  });
}

async function send(request, timeoutMs = REQUEST_TIMEOUT_MS) {
  if (!(await waitForExtension(DETECT_TIMEOUT_MS))) {
    throw new ParapheError('EXTENSION_UNAVAILABLE', 'the Paraphe extension is not installed or not enabled on this page');
  }
  const id = `paraphe-${Date.now()}-${++counter}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      window.removeEventListener('message', onMessage);
      reject(new ParapheError('TIMEOUT', 'no answer from the extension'));
    }, timeoutMs);
    function onMessage(ev) {
      const m = ev.data;
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

/** Certificates on connected tokens; usage defaults to "signing". */
export async function listCertificates({ usage } = {}) {
  const r = await send({ type: 'listCertificates', ...(usage ? { usage } : {}) }, 60_000);
  return r.certificates;
}

function options({ certificate, scheme, ecdsaEncoding }) {
  return {
    ...(certificate ? { certificate } : {}),
    ...(scheme ? { scheme } : {}),
    ...(ecdsaEncoding ? { ecdsaEncoding } : {}),
  };
}

/**
 * Signs one digest ({hash, hashAlgorithm, name}) or several ({hashes: [{digest, hashAlgorithm, name}]})
 * under one consent and one PIN entry.
 */
export function signHash(args) {
  const hashes = args.hashes
    ?? [{ digest: args.hash, hashAlgorithm: args.hashAlgorithm ?? 'sha256', ...(args.name ? { name: args.name } : {}) }];
  return send({ type: 'signHash', hashes, ...options(args) });
}

/**
 * Signs a File or Blob. The extension reads it chunk by chunk and hashes it (the file never
 * leaves the browser; only its digest reaches the card).
 */
export function signDocument(file, args = {}) {
  return send({
    type: 'signDocument',
    file,
    hashAlgorithm: args.hashAlgorithm ?? 'sha256',
    ...(args.name ? { name: args.name } : {}),
    ...options(args),
  });
}

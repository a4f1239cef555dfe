// The page side of web-eid.js 2.x, re-written for the tests from the library's source
// (web-eid/web-eid.js: src/web-eid.ts, src/services/WebExtensionService.ts, src/config.ts,
// src/models/Action.ts, src/utils/errorSerializer.ts). Not the library: a faithful minimal
// copy of what it puts on the wire and how it reads the answers, so that a site built on
// web-eid.js can be exercised against Paraphe without vendoring it:
//   - every call first waits until 1 s after the library loaded (extensionLoadDelay);
//   - requests go out with window.postMessage(message, "*"), carrying libraryVersion and
//     `options` as given (even undefined);
//   - an `<action>-ack` must arrive within 1 s or the call fails EXTENSION_UNAVAILABLE;
//   - the reply timer is 1 s + 5 s + userInteractionTimeout (×2 for get-signing-certificate
//     and sign), else ACTION_TIMEOUT;
//   - answers count only from this window and origin; `-failure` errors are rebuilt from
//     their serialized form when the code is a known one, else UNKNOWN_ERROR;
//   - one pending call per action (ACTION_PENDING); insecure contexts are refused.
// Every message seen is logged in `window.webeidLog` with its time, for the tests.

const config = Object.freeze({
  VERSION: '2.1.0',
  EXTENSION_HANDSHAKE_TIMEOUT: 1000,
  NATIVE_APP_HANDSHAKE_TIMEOUT: 5000,
  DEFAULT_USER_INTERACTION_TIMEOUT: 120000,
  MAX_EXTENSION_LOAD_DELAY: 1000,
});

const CODES = [
  'ERR_WEBEID_ACTION_TIMEOUT', 'ERR_WEBEID_USER_TIMEOUT', 'ERR_WEBEID_VERSION_MISMATCH', 'ERR_WEBEID_VERSION_INVALID',
  'ERR_WEBEID_EXTENSION_UNAVAILABLE', 'ERR_WEBEID_NATIVE_UNAVAILABLE', 'ERR_WEBEID_UNKNOWN_ERROR',
  'ERR_WEBEID_CONTEXT_INSECURE', 'ERR_WEBEID_USER_CANCELLED', 'ERR_WEBEID_NATIVE_INVALID_ARGUMENT',
  'ERR_WEBEID_NATIVE_FATAL', 'ERR_WEBEID_ACTION_PENDING', 'ERR_WEBEID_MISSING_PARAMETER',
];

class WebEidError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
    this.name = 'WebEidError';
  }
}

/** errorSerializer.deserializeError: a known code keeps every serialized member. */
function deserializeError(serialized) {
  if (serialized && typeof serialized.code === 'string' && typeof serialized.message === 'string'
      && CODES.includes(serialized.code)) {
    const error = new WebEidError(serialized.code, serialized.message);
    for (const [key, value] of Object.entries(serialized)) error[key] = value;
    return error;
  }
  const error = new WebEidError('ERR_WEBEID_UNKNOWN_ERROR', serialized?.message ?? 'unknown error');
  if (serialized?.stack) error.stack = serialized.stack;
  return error;
}

window.webeidLog = [];
let queue = [];

function pendingFor(action) {
  return queue.find((p) => p.message.action === action);
}

function removeFromQueue(action) {
  clearTimeout(pendingFor(action)?.replyTimer);
  queue = queue.filter((p) => p.message.action !== action);
}

window.addEventListener('message', (event) => {
  const message = event.data;
  if (!/^web-eid:/.test(message?.action)) return;
  window.webeidLog.push({ at: performance.now(), action: message.action });
  // Sender validation of web-eid.js 2.x: only this window, only this origin.
  if (event.source !== window || event.origin !== window.location.origin) return;
  if (message.action === 'web-eid:warning') {
    for (const w of message.warnings ?? []) console.warn(String(w).replace(/\n|\r/g, ''));
    return;
  }
  const suffix = message.action.match(/success$|failure$|ack$/)?.[0];
  const initial = message.action.replace(/-success$|-failure$|-ack$/, '');
  const pending = pendingFor(initial);
  if (!pending) return;
  if (suffix === 'ack') {
    clearTimeout(pending.ackTimer);
  } else if (suffix === 'success') {
    removeFromQueue(initial);
    pending.resolve(message);
  } else if (suffix === 'failure') {
    removeFromQueue(initial);
    pending.reject(message.error ? deserializeError(message.error) : message);
  }
});

function send(message, timeout) {
  if (pendingFor(message.action)) {
    return Promise.reject(new WebEidError('ERR_WEBEID_ACTION_PENDING', 'same action for Web-eID browser extension is already pending'));
  }
  if (!window.isSecureContext) {
    return Promise.reject(new WebEidError('ERR_WEBEID_CONTEXT_INSECURE', 'Secure context required'));
  }
  const pending = { message };
  queue.push(pending);
  const promise = new Promise((resolve, reject) => {
    pending.resolve = resolve;
    pending.reject = reject;
  });
  pending.ackTimer = setTimeout(() => {
    clearTimeout(pending.replyTimer);
    removeFromQueue(message.action);
    pending.reject(new WebEidError('ERR_WEBEID_EXTENSION_UNAVAILABLE', 'Web-eID extension is not available'));
  }, config.EXTENSION_HANDSHAKE_TIMEOUT);
  pending.replyTimer = setTimeout(() => {
    removeFromQueue(message.action);
    pending.reject(new WebEidError('ERR_WEBEID_ACTION_TIMEOUT', 'extension message timeout'));
  }, timeout);
  window.webeidLog.push({ at: performance.now(), action: message.action, sent: true });
  window.postMessage(message, '*');
  return promise;
}

const loadedAt = Date.now();
const extensionLoadDelay = () => new Promise((r) => setTimeout(r, Math.max(0, loadedAt + config.MAX_EXTENSION_LOAD_DELAY - Date.now())));
const userTime = (options) => options?.userInteractionTimeout ?? config.DEFAULT_USER_INTERACTION_TIMEOUT;
const handshakes = config.EXTENSION_HANDSHAKE_TIMEOUT + config.NATIVE_APP_HANDSHAKE_TIMEOUT;

async function status() {
  await extensionLoadDelay();
  try {
    const { library, extension, nativeApp } = await send({ action: 'web-eid:status', libraryVersion: config.VERSION }, handshakes);
    return { library, extension, nativeApp };
  } catch (error) {
    if (error instanceof Error) error.library = config.VERSION;
    throw error;
  }
}

async function authenticate(challengeNonce, options) {
  await extensionLoadDelay();
  if (!challengeNonce) throw new WebEidError('ERR_WEBEID_MISSING_PARAMETER', 'authenticate function requires a challengeNonce');
  const message = { action: 'web-eid:authenticate', libraryVersion: config.VERSION, challengeNonce, options };
  const { unverifiedCertificate, algorithm, signature, format, appVersion } = await send(message, handshakes + userTime(options));
  return { unverifiedCertificate, algorithm, signature, format, appVersion };
}

async function getSigningCertificate(options) {
  await extensionLoadDelay();
  const message = { action: 'web-eid:get-signing-certificate', libraryVersion: config.VERSION, options };
  const { certificate, supportedSignatureAlgorithms } = await send(message, handshakes + userTime(options) * 2);
  return { certificate, supportedSignatureAlgorithms };
}

async function sign(certificate, hash, hashFunction, options) {
  await extensionLoadDelay();
  if (!certificate) throw new WebEidError('ERR_WEBEID_MISSING_PARAMETER', 'sign function requires a certificate as parameter');
  if (!hash) throw new WebEidError('ERR_WEBEID_MISSING_PARAMETER', 'sign function requires a hash as parameter');
  if (!hashFunction) throw new WebEidError('ERR_WEBEID_MISSING_PARAMETER', 'sign function requires a hashFunction as parameter');
  const message = { action: 'web-eid:sign', libraryVersion: config.VERSION, certificate, hash, hashFunction, options };
  const { signature, signatureAlgorithm } = await send(message, handshakes + userTime(options) * 2);
  return { signature, signatureAlgorithm };
}

window.webeid = { status, authenticate, getSigningCertificate, sign, config };
window.webeidLoaded = true;

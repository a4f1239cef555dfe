// @ts-check
// Opening plis (CMS EnvelopedData / AuthEnvelopedData) with a certificate on the token.
//
// The pli never goes to the host: the WASM core parses it as it streams, finds the
// recipient that names a certificate on the token, and only the wrapped content-encryption
// key crosses native messaging (`login` → `decrypt` → `logout`, docs/PROTOCOL.md).
//
// Two callers:
//  - a web page, through the content script (content/decrypt.js), which starts the job:
//      {kind:"pli-start", jobId, name, size, activation, frame} → {}
//    and hands the pli to the extension frame (frame/frame.js, pli/stream.js) with the job id;
//    the frame reads and decrypts it, and asks here (fromFrame):
//      {kind:"pli-frame-open", jobId, prefix(b64)} → consent + PIN + unwrap → {key(b64), certificate, contentEncryption, authenticated}
//      {kind:"pli-frame-file", jobId, lend?}        → {name}: the OPFS file to decrypt into (plaintext-files.js);
//                                                   `lend`: the frame has no storage, the storage document is made
//      {kind:"pli-frame-progress", jobId, done}     → the consent window's progress bar
//      {kind:"pli-frame-end", jobId, error?}        → the window says whether the pli opened; the job ends
//    The frame keeps the plaintext and hands it to the content script only once the core
//    checked the end of the pli (same release rule as below). The job id is the content
//    script's secret (the page never sees it); the frame's messages must also come from
//    that tab.
//    Where the frame cannot start (`frame: false`), the content script relays the pli here:
//      {kind:"pli-chunk", jobId, data(b64)}       → {headerReady}
//      {kind:"pli-open", jobId}                   → consent + PIN + unwrap → {certificate, algorithm}
//      {kind:"pli-finish", jobId}                 → {size}: the end is checked (padding, GCM tag)
//      {kind:"pli-read", jobId, offset}           → {plaintext(b64), done}: only after pli-finish
//      {kind:"pli-abort", jobId}
//    Decryption runs here, with the key (the core parses and checks, WebCrypto runs the AES:
//    pli/bulk.js); the consent window stays open with a progress bar until the end, and
//    says whether the pli opened.
//    Release rule: the plaintext stays here (Blob parts) until the core checked the end of
//    the pli; no byte of it reaches the content script, which runs in the page's process,
//    before the padding or the GCM tag is verified. A failure drops it all.
//    Limits: MAX_JOBS_PER_TAB open jobs per tab (a new one ends that tab's oldest), at most
//    MAX_JOBS in all (then refused): a page can neither crowd out nor end another tab's job,
//    nor close its window. A tab that closes ends its jobs.
//  - the extension's own page « Ouvrir un pli » (pli/pli.html), for large files saved to
//    disk: {kind:"pli-unwrap", name, size, prefix(b64)} → {key(b64), certificate, algorithm}.
//    `prefix` is the pli up to the end of its header; the page decrypts by itself (it is
//    the extension's origin) and streams the plaintext to a file.
import { api, ParapheError } from '../common/api.js';
import * as consent from './consent.js';
import * as core from './core.js';
import { certificateChoices } from './choices.js';
import * as native from './native.js';
import * as sessions from './sessions.js';
import { base64, bulkDecryptor, decryptPiece, fromBase64 } from '../pli/bulk.js';
import * as plaintextFiles from './plaintext-files.js';

const MAX_JOBS_PER_TAB = 2;
const MAX_JOBS = 8;
const READ_BYTES = 2 << 20; // plaintext per pli-read answer

/**
 * A pli a web page is opening.
 * @typedef {object} PliJob
 * @property {number} tabId
 * @property {string} jobId
 * @property {chrome.runtime.MessageSender} sender
 * @property {boolean} activation
 * @property {AbortController} cancel aborted when the job ends: a consent window still asking closes
 * @property {(() => void) | null} admission ends the tab's consent admission
 * @property {Blob[]} parts
 * @property {Blob | null} plaintext
 * @property {ReturnType<typeof core.newPliDecryptor>} pli
 * @property {string} origin
 * @property {string} tabTitle
 * @property {string} name
 * @property {number} size
 * @property {import('./consent.js').ConsentWindow | null} window
 * @property {boolean} keyed
 * @property {boolean} opening
 * @property {import('../pli/bulk.js').BulkDecryptor | null} bulk
 */

/**
 * A message of the content script or the extension frame (the list above): each field its
 * word, checked where used.
 * @typedef {{
 *   kind?: unknown, jobId?: unknown, name?: unknown, size?: unknown, activation?: unknown, data?: unknown,
 *   offset?: unknown, prefix?: unknown, done?: unknown, lend?: unknown, error?: {code?: unknown, message?: unknown} | null,
 * }} PliMessage
 */

/** @type {Map<string, PliJob>} */
const jobs = new Map(); // `${tabId}:${frameId}:${jobId}` → Job (insertion order: oldest first)

api.tabs.onRemoved.addListener((tabId) => {
  for (const [key, job] of jobs) if (job.tabId === tabId) drop(key);
});

/** A file name fit for display: no control or bidi-override characters, bounded. @param {unknown} name */
function cleanName(name) {
  // eslint-disable-next-line no-control-regex
  return String(name ?? '').replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').slice(0, 200);
}

/** @param {number} size bytes */
function sizeText(size) {
  if (!Number.isFinite(size) || size < 0) return '';
  const units = /** @type {[string, number][]} */ ([['Gio', 2 ** 30], ['Mio', 2 ** 20], ['Kio', 2 ** 10]]);
  const [unit, n] = units.find(([, n_]) => size >= n_) ?? ['o', 1];
  return `${(size / n).toLocaleString(api.i18n.getUILanguage(), { maximumFractionDigits: 1 })} ${unit}`;
}

/** Encryption certificates with a private key, as the consent window shows them. */
async function encryptionChoices() {
  return (await certificateChoices('encryption')).choices.filter((c) => c.hasPrivateKey);
}

/**
 * Finds the certificates the pli in `pli` (a PliDecryptor past its header) is addressed to,
 * asks the person (consent window: which file, which certificate, PIN), and unwraps the key
 * on the card. Resolves with {key, choice, header, window?}. `keepOpen` leaves the window
 * open for progress (see consent.ask).
 * @param {ReturnType<typeof core.newPliDecryptor>} pli
 * @param {{origin: string, tabTitle: string, tabId?: number, name: string, size: number, keepOpen: boolean, cancel?: AbortController}} about
 *   `cancel`: aborted when the job ends (a third pli of its tab, say): the consent window
 *   goes, as it does when `tabId` closes
 */
async function unwrap(pli, { origin, tabTitle, tabId, name, size, keepOpen, cancel }) {
  const header = JSON.parse(/** @type {string} */ (pli.header())); // callers saw it complete
  const release = native.hold();
  try {
    const all = await encryptionChoices();
    // Throws NO_CERTIFICATE (or UNSUPPORTED_ALGORITHM for an unusable key transport).
    const matched = JSON.parse(pli.match_certificates(JSON.stringify(all)));
    const choices = all.filter((c) => matched.includes(c.fingerprint));
    const view = {
      kind: 'decrypt',
      origin,
      tabTitle,
      tabId,
      items: [{ name: name || api.i18n.getMessage('consentUnnamed'), hashAlgorithm: header.contentEncryption, hex: sizeText(size) }],
      choices,
      purpose: 'decrypt',
    };
    /** @type {import('./consent.js').Work} */
    const work = (choice, pin) => sessions.withLogin(choice, pin, async (session) => {
      const r = await native.call('decrypt', (id) => pli.decrypt_request(id, session, choice.fingerprint));
      return { key: r.plaintext, choice };
    }, 'decrypt');
    const answer = await consent.ask(view, work, { keepOpen, signal: cancel?.signal });
    const { result, window } = keepOpen ? answer : { result: answer, window: null };
    return { ...result, header, window };
  } finally {
    release();
  }
}

/**
 * @param {import('./core.js').Choice} choice
 * @param {{contentEncryption: string, authenticated: boolean}} header the core's view of the pli's header
 */
const publicResult = (choice, header) => ({
  certificate: { fingerprint: choice.fingerprint, certificate: choice.certificate },
  contentEncryption: header.contentEncryption,
  authenticated: header.authenticated,
});

// ---- web pages (through content/decrypt.js) -------------------------------------------------

/**
 * @param {PliMessage} msg @param {string} origin the page's (origin.js)
 * @param {chrome.runtime.MessageSender} sender a web page's frame: it has a tab
 */
export async function fromPage(msg, origin, sender) {
  const tabId = /** @type {number} */ (/** @type {chrome.tabs.Tab} */ (sender.tab).id);
  const key = `${tabId}:${sender.frameId}:${String(msg.jobId)}`;
  if (msg.kind === 'pli-start') {
    if (jobs.has(key)) throw new ParapheError('INVALID_REQUEST', 'this decryption is already started');
    // A page that never finishes must not pin memory: its own oldest job goes, never
    // another tab's.
    const mine = [...jobs].filter(([, j]) => j.tabId === tabId);
    if (mine.length >= MAX_JOBS_PER_TAB) drop(mine[0][0]);
    if (jobs.size >= MAX_JOBS) throw new ParapheError('INVALID_REQUEST', 'too many plis being opened at once: try again later');
    jobs.set(key, {
      tabId,
      jobId: String(msg.jobId),
      sender,
      activation: msg.activation === true,
      cancel: new AbortController(),
      admission: null, // ends the tab's consent admission (consent.admit) when the job ends
      parts: [], // checked plaintext is released only after pli-finish
      plaintext: null,
      pli: core.newPliDecryptor(),
      origin,
      tabTitle: sender.tab?.title ?? '',
      name: cleanName(msg.name),
      size: Number(msg.size) || 0,
      window: null,
      keyed: false,
      opening: false,
      bulk: null,
    });
    return {};
  }
  const job = jobs.get(key);
  if (!job) throw new ParapheError('INVALID_REQUEST', 'unknown decryption');
  try {
    switch (msg.kind) {
      case 'pli-chunk': {
        if (job.opening || job.plaintext) throw new ParapheError('INVALID_REQUEST', 'a chunk while the key is being set');
        // Once keyed, the core hands out ciphertext and WebCrypto runs the AES (pli/bulk.js).
        const piece = job.bulk
          ? await decryptPiece(job.bulk, job.pli.feed(fromBase64(String(msg.data))))
          : job.pli.feed(fromBase64(String(msg.data)));
        hold(job, piece);
        job.window?.progress(job.pli.consumed(), job.size);
        return { headerReady: !job.keyed && job.pli.header() !== undefined };
      }
      case 'pli-open': {
        if (job.keyed || job.opening || job.pli.header() === undefined) throw new ParapheError('INVALID_REQUEST', 'not ready to open');
        job.opening = true;
        // The consent window rules (consent.js): the person is using the page, its tab is
        // shown, one window per tab; the admission lasts as long as the job.
        job.admission = await consent.admit(job.sender, job.activation);
        const { key: cek, choice, header, window } = await unwrap(job.pli, { ...job, keepOpen: true });
        job.window = window;
        // job.opening stays true: the core is keyed before WebCrypto is, no chunk in between.
        job.bulk = await bulkDecryptor(job.pli.set_key_external_base64(cek), cek, (tag) => job.pli.absorb_ghash(tag));
        job.opening = false;
        job.keyed = true;
        window.progress(job.pli.consumed(), job.size);
        return publicResult(choice, header);
      }
      case 'pli-finish': {
        if (job.plaintext) throw new ParapheError('INVALID_REQUEST', 'already finished');
        if (!job.keyed) {
          job.pli.finish(); // a truncated or malformed pli says so here
          throw new ParapheError('INVALID_REQUEST', 'the pli was not opened');
        }
        // What the key released and no chunk took yet (ciphertext, with WebCrypto), then the
        // core's checks (padding, GCM tag: throws) and the last block's plaintext.
        if (job.bulk) hold(job, await decryptPiece(job.bulk, job.pli.feed(new Uint8Array(0))));
        hold(job, job.pli.finish());
        // Checked: from here on the plaintext may go to the page (pli-read).
        job.plaintext = new Blob(job.parts);
        job.parts = [];
        job.window?.finish(null);
        job.window = null; // closes by itself; no longer this job's to close
        return { size: job.plaintext.size };
      }
      case 'pli-read': {
        if (!job.plaintext) throw new ParapheError('INVALID_REQUEST', 'the pli is not checked yet');
        const offset = Number(msg.offset);
        if (!Number.isSafeInteger(offset) || offset < 0 || offset > job.plaintext.size) {
          throw new ParapheError('INVALID_REQUEST', 'offset out of range');
        }
        const bytes = new Uint8Array(await job.plaintext.slice(offset, offset + READ_BYTES).arrayBuffer());
        const done = offset + bytes.length >= job.plaintext.size;
        if (done) drop(key, false);
        return { plaintext: base64(bytes), done };
      }
      case 'pli-abort':
        drop(key);
        return {};
      default:
        throw new ParapheError('INVALID_REQUEST', 'unknown message');
    }
  } catch (e) {
    throw failed(key, job, e);
  }
}

/**
 * A message of the job failed: its consent window shows the error and the job goes.
 * @param {string} key @param {PliJob} job @param {unknown} e @returns {ParapheError} to throw
 */
function failed(key, job, e) {
  const err = ParapheError.from(e);
  job.window?.finish(err.toJSON());
  drop(key, false);
  return err;
}

/**
 * Keeps a piece of plaintext until the end of the pli is checked (release rule above).
 * @param {PliJob} job @param {Uint8Array} bytes decrypted, or the core's (its own buffer)
 */
function hold(job, bytes) {
  if (bytes.length > 0) job.parts.push(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)]));
}

/** @param {string} key @param {boolean} [closeWindow] */
function drop(key, closeWindow = true) {
  const job = jobs.get(key);
  if (!job) return;
  jobs.delete(key);
  job.parts = [];
  job.plaintext = null;
  job.cancel.abort();
  job.admission?.();
  if (closeWindow) job.window?.close();
  try {
    job.pli.free();
  } catch { /* already freed */ }
}

// ---- the extension frame (page API, frame/frame.js) -------------------------------------------

/**
 * The frame's messages for the job its content script started (`pli-start`). The job id is
 * the content script's own secret; the frame must be in the job's tab.
 * @param {PliMessage} msg @param {chrome.runtime.MessageSender} sender
 */
export async function fromFrame(msg, sender) {
  const entry = [...jobs].find(([, j]) => j.jobId === String(msg.jobId) && (!sender.tab || sender.tab.id === j.tabId));
  if (!entry) throw new ParapheError('INVALID_REQUEST', 'unknown decryption');
  const [key, job] = entry;
  try {
    switch (msg.kind) {
      case 'pli-frame-open': {
        if (job.keyed || job.opening) throw new ParapheError('INVALID_REQUEST', 'already opened');
        job.opening = true;
        job.pli.feed_base64(String(msg.prefix));
        if (job.pli.header() === undefined) throw new ParapheError('PLI_TRUNCATED', 'the header of the pli is incomplete');
        // The consent window rules (consent.js), as for the other page requests; the
        // admission lasts as long as the job.
        job.admission = await consent.admit(job.sender, job.activation);
        const { key: cek, choice, header, window } = await unwrap(job.pli, { ...job, keepOpen: true });
        job.window = window;
        job.keyed = true;
        job.opening = false;
        window.progress(0, job.size);
        return { key: cek, ...publicResult(choice, header) };
      }
      case 'pli-frame-file':
        if (msg.lend === true) await plaintextFiles.storageDocument();
        return { name: plaintextFiles.newName(job.tabId) };
      case 'pli-frame-progress':
        job.window?.progress(Number(msg.done) || 0, job.size);
        return {};
      case 'pli-frame-end':
        if (msg.error) throw new ParapheError(String(msg.error.code), String(msg.error.message));
        job.window?.finish(null);
        job.window = null; // closes by itself; no longer this job's to close
        drop(key, false);
        return {};
      default:
        throw new ParapheError('INVALID_REQUEST', 'unknown message');
    }
  } catch (e) {
    throw failed(key, job, e);
  }
}

// ---- the extension page « Ouvrir un pli » ---------------------------------------------------

/** @param {PliMessage} msg @param {chrome.runtime.MessageSender} sender */
export async function fromExtensionPage(msg, sender) {
  const pli = core.newPliDecryptor();
  try {
    pli.feed_base64(String(msg.prefix));
    if (pli.header() === undefined) throw new ParapheError('PLI_TRUNCATED', 'the header of the pli is incomplete');
    const { key, choice, header } = await unwrap(pli, {
      origin: api.i18n.getMessage('pliLocalOrigin') || 'Paraphe',
      tabTitle: sender.tab?.title ?? '',
      tabId: sender.tab?.id,
      name: cleanName(msg.name),
      size: Number(msg.size) || 0,
      keepOpen: false,
    });
    return { key, ...publicResult(choice, header) };
  } finally {
    pli.free();
  }
}

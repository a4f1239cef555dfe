// Opening plis (CMS EnvelopedData / AuthEnvelopedData) with a certificate on the token.
//
// The pli never goes to the host: the WASM core parses it as it streams, finds the
// recipient that names a certificate on the token, and only the wrapped content-encryption
// key crosses native messaging (`login` → `decrypt` → `logout`, docs/PROTOCOL.md).
//
// Two callers:
//  - a web page, through the content script (content/decrypt.js):
//      {kind:"pli-start", jobId, name, size}      → {}
//      {kind:"pli-chunk", jobId, data(b64)}       → {plaintext(b64), headerReady}
//      {kind:"pli-open", jobId}                   → consent + PIN + unwrap → {certificate, algorithm}
//      {kind:"pli-finish", jobId}                 → {plaintext(b64)}: only now is it complete
//      {kind:"pli-abort", jobId}
//    Decryption runs here, with the key (the core parses and checks, WebCrypto runs the AES:
//    pli/bulk.js); the consent window stays open with a progress bar until the end, and
//    says whether the pli opened.
//  - the extension's own page « Ouvrir un pli » (pli/pli.html), for large files saved to
//    disk: {kind:"pli-unwrap", name, size, prefix(b64)} → {key(b64), certificate, algorithm}.
//    `prefix` is the pli up to the end of its header; the page decrypts by itself (it is
//    the extension's origin) and streams the plaintext to a file.
import { api, ParapheError } from '../common/api.js';
import * as consent from './consent.js';
import { core } from './core.js';
import { certificateChoices } from './choices.js';
import * as native from './native.js';
import * as sessions from './sessions.js';
import { base64, bulkDecryptor, decryptPiece, fromBase64 } from '../pli/bulk.js';

const MAX_OPEN_JOBS = 4;
const jobs = new Map(); // `${tabId}:${frameId}:${jobId}` → Job

/** A file name fit for display: no control or bidi-override characters, bounded. */
function cleanName(name) {
  // eslint-disable-next-line no-control-regex
  return String(name ?? '').replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').slice(0, 200);
}

function sizeText(size) {
  if (!Number.isFinite(size) || size < 0) return '';
  const units = [['Gio', 2 ** 30], ['Mio', 2 ** 20], ['Kio', 2 ** 10]];
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
 */
async function unwrap(pli, { origin, tabTitle, name, size, keepOpen }) {
  const header = JSON.parse(pli.header());
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
      items: [{ name: name || api.i18n.getMessage('consentUnnamed'), hashAlgorithm: header.contentEncryption, hex: sizeText(size) }],
      choices,
      purpose: 'decrypt',
    };
    const work = (choice, pin) => sessions.withLogin(choice, pin, async (session) => {
      const r = await native.call('decrypt', (id) => pli.decrypt_request(id, session, choice.fingerprint));
      return { key: r.plaintext, choice };
    }, 'decrypt');
    const answer = await consent.ask(view, work, { keepOpen });
    const { result, window } = keepOpen ? answer : { result: answer, window: null };
    return { ...result, header, window };
  } finally {
    release();
  }
}

const publicResult = (choice, header) => ({
  certificate: { fingerprint: choice.fingerprint, certificate: choice.certificate },
  contentEncryption: header.contentEncryption,
  authenticated: header.authenticated,
});

// ---- web pages (through content/decrypt.js) -------------------------------------------------

export async function fromPage(msg, origin, sender) {
  const key = `${sender.tab.id}:${sender.frameId}:${String(msg.jobId)}`;
  if (msg.kind === 'pli-start') {
    if (jobs.size >= MAX_OPEN_JOBS) {
      // A page that never finishes must not pin memory: the oldest unfinished job goes.
      const [oldest] = jobs.keys();
      drop(oldest);
    }
    jobs.set(key, {
      pli: new (core().PliDecryptor)(),
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
        if (job.opening) throw new ParapheError('INVALID_REQUEST', 'a chunk while the key is being set');
        // Once keyed, the core hands out ciphertext and WebCrypto runs the AES (pli/bulk.js).
        const plaintext = job.bulk
          ? base64(await decryptPiece(job.bulk, job.pli.feed(fromBase64(String(msg.data)))))
          : job.pli.feed_base64(String(msg.data));
        job.window?.progress(job.pli.consumed(), job.size);
        return { plaintext, headerReady: !job.keyed && job.pli.header() !== undefined };
      }
      case 'pli-open': {
        if (job.keyed || job.pli.header() === undefined) throw new ParapheError('INVALID_REQUEST', 'not ready to open');
        const { key: cek, choice, header, window } = await unwrap(job.pli, { ...job, keepOpen: true });
        job.window = window;
        job.opening = true; // the core is keyed before WebCrypto is: no chunk in between
        job.bulk = await bulkDecryptor(job.pli.set_key_external_base64(cek), cek);
        job.opening = false;
        job.keyed = true;
        window.progress(job.pli.consumed(), job.size);
        return publicResult(choice, header);
      }
      case 'pli-finish': {
        // What the key released and no chunk took yet (ciphertext, with WebCrypto), then the
        // core's checks and the last block's plaintext.
        const held = job.bulk ? await decryptPiece(job.bulk, job.pli.feed(new Uint8Array(0))) : new Uint8Array(0);
        const last = job.pli.finish();
        const all = new Uint8Array(held.length + last.length);
        all.set(held);
        all.set(last, held.length);
        const plaintext = base64(all);
        job.window?.finish(null);
        drop(key, false);
        return { plaintext };
      }
      case 'pli-abort':
        drop(key);
        return {};
      default:
        throw new ParapheError('INVALID_REQUEST', 'unknown message');
    }
  } catch (e) {
    const err = ParapheError.from(e);
    job.window?.finish(err.toJSON());
    drop(key, false);
    throw err;
  }
}

function drop(key, closeWindow = true) {
  const job = jobs.get(key);
  if (!job) return;
  jobs.delete(key);
  if (closeWindow) job.window?.close();
  try {
    job.pli.free();
  } catch { /* already freed */ }
}

// ---- the extension page « Ouvrir un pli » ---------------------------------------------------

export async function fromExtensionPage(msg, sender) {
  const pli = new (core().PliDecryptor)();
  try {
    pli.feed_base64(String(msg.prefix));
    if (pli.header() === undefined) throw new ParapheError('PLI_TRUNCATED', 'the header of the pli is incomplete');
    const { key, choice, header } = await unwrap(pli, {
      origin: api.i18n.getMessage('pliLocalOrigin') || 'Paraphe',
      tabTitle: sender.tab?.title ?? '',
      name: cleanName(msg.name),
      size: Number(msg.size) || 0,
      keepOpen: false,
    });
    return { key, ...publicResult(choice, header) };
  } finally {
    pli.free();
  }
}

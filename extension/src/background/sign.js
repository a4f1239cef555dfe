// @ts-check
// Page API signatures (`signHash`; `signDocument`, `signDocuments` and `signData` arrive here
// as `signHash` once their digests are known): one consent window listing every document, one
// login, N signatures in order, each reported as it completes.
//
// The signatures are made by the batch engine (batch.js): pipelined, reported in order, and
// a batch that fails in the middle (card pulled out, host killed, token error, consent window
// closed) stops there with an error that says exactly what happened: `signed` lists the
// indexes whose signatures are in `signatures`, `notSigned` the others. No document is
// reported signed without its signature.
//
// `format: "cades"`: each signature is a detached CAdES `.p7s` built by the WASM core
// (formats.rs) around the card's signature of the signed attributes' digest. `format: "xades"`:
// a detached XAdES baseline B-B jeton `.xml` whose Reference URI is the document's name.
// `format: "pades"` (signDocument(s) only): the PDFs stay in the tab's extension frame; for each
// job the content script is asked (`ask`) for the PDF laid out for the chosen certificate (a
// formats.rs `pades` job: the update and its byte-range digest), the WASM core builds the CMS
// signed attributes around it, the card signs them, and the result is the update with the CMS,
// which the content script appends to the page's file.
//
// Baseline B-T: with a time-stamp authority configured (settings.js `timestampUrl`), the CAdES
// and PAdES jobs carry its URL (`timestamp`): batch.js has the signature time-stamped before it
// is finished (timestamp.js), and PAdES layouts are asked with room for the token.
//
// Dual-use keys: a `web-eid:1.0` login token is nothing but a signature over
// H(H(origin) ‖ H(nonce)), so a key whose certificate can log in (`loginCapable`) never signs
// a digest the page chose (`format: "raw"`, login purpose `sign-raw`): it would hand the page
// a login token for another site. Such keys sign only what the WASM core builds (CAdES signed
// attributes, `sign-structured`). Raw requests are offered the other certificates only, and
// get RAW_SIGNATURE_REFUSED when none is left (docs/SECURITY.md, « Dual-use keys »).
import { ParapheError } from '../common/api.js';
import * as batch from './batch.js';
import { certificateChoices, noSuitableCertificate } from './choices.js';
import * as consent from './consent.js';
import * as native from './native.js';
import * as sessions from './sessions.js';
import { settings } from './settings.js';

/**
 * `request`: a validated `signHash` (wasm/src/request.rs). `progress(p)` reports to the page:
 * `{done, total, signature}` after each document. `ownDigests`: the extension made the
 * digests itself (« Tester ma carte »: the SHA-256 of random bytes), so no page chose them
 * and a login-capable key may sign them (login purpose `sign-structured`).
 * @param {import('./core.js').SignHashRequest} request
 * @param {string} origin
 * @param {chrome.runtime.MessageSender} sender
 * @param {(p: {done: number, total: number, signature: object}) => void} [progress]
 * `ask`: a question to the content script that sent the request (PAdES layouts).
 * @param {{ownDigests?: boolean, ask?: (question: object) => Promise<any>}} [options]
 */
export async function signHash(request, origin, sender, progress = () => {}, { ownDigests = false, ask } = {}) {
  return signRequests([request], origin, sender, progress, { ownDigests, ask });
}

/**
 * Several `signHash` requests as one batch: one consent window listing all their documents,
 * one login, their signatures in order (the first request's, then the next one's…), indexes
 * counted over all. « Signer des fichiers » (sign/sign.js) signs PDFs in PAdES and the other
 * files in XAdES or CAdES that way. The certificate asked for is the first request's. A
 * PAdES layout question says which request it is for (`part`, from 0) and the index in it.
 * `extensionPage`: the extension's own page asks (`origin` is its local name), which has no
 * reason to be kept from learning at once that no certificate fits (choices.js
 * noSuitableCertificate hides that from sites).
 * @param {import('./core.js').SignHashRequest[]} requests
 * @param {string} origin
 * @param {chrome.runtime.MessageSender} sender
 * @param {(p: {done: number, total: number, signature: object}) => void} [progress]
 * @param {{ownDigests?: boolean, ask?: (question: object) => Promise<any>, extensionPage?: boolean}} [options]
 */
export async function signRequests(requests, origin, sender, progress = () => {}, { ownDigests = false, ask, extensionPage = false } = {}) {
  const release = native.hold();
  try {
    const raw = requests.some((r) => !structured(r)) && !ownDigests; // a digest the page chose
    const purpose = raw ? 'sign-raw' : 'sign-structured';
    const tabTitle = sender.tab?.title ?? '';
    const tabId = sender.tab?.id; // its consent window closes with it
    // Each document with the format it gets (the consent window says it: PAdES, XAdES jeton,
    // CAdES .p7s); a raw signature names none.
    const items = requests.flatMap((r) => r.items.map(({ hex, hashAlgorithm, name, size }) => ({
      hex, hashAlgorithm, name, size, ...(structured(r) ? { format: r.format } : {}), ...(r.visible ? { visible: true } : {}),
    })));
    /** @param {ParapheError} err */
    const unsuitable = async (err) => {
      if (extensionPage) throw err;
      return noSuitableCertificate({ origin, tabTitle, tabId, kind: 'sign', items }, err);
    };
    const wanted = requests[0]?.certificate;
    let { choices } = await certificateChoices('signing');
    if (wanted) choices = choices.filter((c) => c.fingerprint === wanted);
    choices = choices.filter((c) => !c.expired);
    const refused = raw && choices.some((c) => c.loginCapable);
    if (raw) choices = choices.filter((c) => !c.loginCapable);
    if (choices.length === 0) {
      const err = refused
        ? new ParapheError('RAW_SIGNATURE_REFUSED', wanted
          ? 'this certificate can also log in to web sites: it signs CAdES (format "cades"), never a digest chosen by the page'
          : 'the signing certificates on the connected tokens can also log in to web sites: they sign CAdES (format "cades"), never a digest chosen by the page')
        : new ParapheError('NO_CERTIFICATE', wanted
          ? 'the requested certificate is not on a connected token, or has expired'
          : 'no valid signing certificate on a connected token');
      return await unsuitable(err);
    }
    // What the format refuses (a PSS request with an EC key, a bad policy) fails here, before
    // the consent window (but through the « no suitable certificate » window for a site not
    // allowed: the refusal says which kind of key is there).
    if (requests.some((r) => r.format === 'pades') && !ask) {
      throw new ParapheError('INVALID_REQUEST', 'the pades format signs files: signDocument or signDocuments');
    }
    for (const request of requests) {
      if (!structured(request) || request.format === 'pades') continue;
      try {
        for (const c of choices) await batch.prepare(formatJob(request, request.items[0]), c);
      } catch (e) {
        return await unsuitable(ParapheError.from(e));
      }
    }
    const format = requests.map((r) => r.format).join('+');
    // Baseline B-T for CAdES and PAdES when a time-stamp authority is configured (settings.js).
    const timestampUrl = (await settings()).timestampUrl || undefined;
    const timestamped = timestampUrl && requests.some((r) => r.format === 'cades' || r.format === 'pades');
    const view = { origin, tabTitle, tabId, format, purpose, items, choices, ...(timestamped ? { timestamp: new URL(timestampUrl).host } : {}) };
    return await consent.ask(view, (choice, pin, window) => sessions.withLogin(choice, pin, async (session) => {
      const signatures = await batch.run(requests.flatMap((r, part) => jobs(r, part, choice, raw, ask, extensionPage, sender, timestampUrl)), {
        choice,
        session,
        window,
        report: (done, signature) => progress({ done, total: items.length, signature }),
      });
      return { certificate: { fingerprint: choice.fingerprint, certificate: choice.certificate }, signatures };
    }, purpose));
  } finally {
    release();
  }
}

/**
 * PAdES layouts the extension frame sent here itself (`pdf-frame-layout`), by the id of the
 * question (`reply`) and for the tab that asked: reply → {tabId, layout}.
 * @type {Map<string, {tabId: number | undefined, layout?: string}>}
 */
const frameLayouts = new Map();

/**
 * The extension frame's answer to a layout question (frame/frame.js). Only the frame in the
 * tab that was asked: the content script, in the page's process, relays the question but
 * never carries what the card signs.
 * @param {{reply?: unknown, layout?: unknown, [field: string]: unknown}} msg
 * @param {chrome.runtime.MessageSender} sender
 */
export function frameLayout(msg, sender) {
  const pending = frameLayouts.get(String(msg.reply));
  if (!pending || pending.tabId !== sender.tab?.id || pending.layout !== undefined) {
    throw new ParapheError('INVALID_REQUEST', 'no such layout question');
  }
  pending.layout = String(msg.layout);
  return {};
}

/**
 * The PAdES job for `item`, asked when the batch engine sends it (one PDF in memory at a time
 * where the PDF is). A web page's comes from the extension frame directly (`frameLayout`);
 * the extension's own page answers on its port. Either way the layout must name the file
 * whose digest the consent window showed.
 * @param {import('./core.js').SignHashRequest['items'][number]} item
 * @param {object} question
 * @param {(question: object) => Promise<any>} ask
 * @param {boolean} extensionPage
 * @param {chrome.runtime.MessageSender} sender
 */
async function padesLayout(item, question, ask, extensionPage, sender) {
  if (extensionPage) return checkedLayout(item, await ask({ layout: question }));
  const reply = crypto.randomUUID();
  frameLayouts.set(reply, { tabId: sender.tab?.id });
  try {
    await ask({ layout: { ...question, reply } });
    const { layout } = frameLayouts.get(reply) ?? {};
    if (layout === undefined) throw new ParapheError('INVALID_REQUEST', 'the PDF was not laid out by the extension frame');
    return checkedLayout(item, layout);
  } finally {
    frameLayouts.delete(reply);
  }
}

/** @param {{base64: string, name?: string | null}} item @param {unknown} text */
function checkedLayout(item, text) {
  const job = JSON.parse(String(text));
  if (job?.pades?.sourceDigest !== item.base64) {
    throw new ParapheError('INVALID_REQUEST', `${item.name || 'the PDF'}: the file laid out is not the one shown in the consent window`);
  }
  return job;
}

/** @typedef {import('./core.js').SignHashRequest} SignHashRequest */

/**
 * The batch engine's jobs for a `signHash` request (batch.js).
 * @param {SignHashRequest} request
 * @param {number} part which of signRequests' requests
 * @param {import('./core.js').Choice} choice
 * @param {boolean} pageChosen
 * @param {((question: object) => Promise<any>) | undefined} ask always there for PAdES (signRequests checks)
 * @param {boolean} extensionPage
 * @param {chrome.runtime.MessageSender} sender
 * @param {string | undefined} timestampUrl the time-stamp authority (B-T for CAdES and PAdES), if any
 * @returns {import('./batch.js').Job[]}
 */
function jobs(request, part, choice, pageChosen, ask, extensionPage, sender, timestampUrl) {
  return request.items.map((item, index) => {
    const info = { digest: item.hex, hashAlgorithm: item.hashAlgorithm, format: structured(request) ? request.format : 'raw' };
    if (request.format === 'pades') {
      const question = {
        part, index, certificate: choice.certificate, hashAlgorithm: item.hashAlgorithm, now: Date.now(),
        visible: request.visible === true, timestamp: Boolean(timestampUrl),
      };
      const asked = /** @type {NonNullable<typeof ask>} */ (ask);
      return { format: () => padesLayout(item, question, asked, extensionPage, sender), timestamp: timestampUrl, info };
    }
    if (request.format === 'cades') return { format: formatJob(request, item), timestamp: timestampUrl, info };
    if (structured(request)) return { format: formatJob(request, item), info };
    return {
      raw: {
        base64: item.base64, hashAlgorithm: item.hashAlgorithm, scheme: request.scheme ?? '', ecdsaEncoding: request.ecdsaEncoding ?? '', pageChosen,
      },
      info,
    };
  });
}

/** A format the WASM core builds around the card's signature: `cades` (.p7s), `xades` (jeton), `pades`. */
const structured = (/** @type {SignHashRequest} */ request) => request.format === 'cades' || request.format === 'xades' || request.format === 'pades';

/**
 * The WASM core's job (formats.rs) for one item: a CAdES `.p7s` or a XAdES jeton `.xml`.
 * @param {SignHashRequest} request @param {import('./core.js').Digest} item
 */
function formatJob(request, item) {
  if (request.format === 'xades') return { jeton: { fileName: item.name, digest: item.base64 } };
  return {
    cades: {
      digest: item.base64,
      hashAlgorithm: item.hashAlgorithm,
      ...(request.scheme ? { scheme: request.scheme } : {}),
      ...(request.policy ? { policy: request.policy } : {}),
    },
  };
}

// @ts-check
// Page API signatures (`signHash`; `signDocument`, `signDocuments` and `signData` arrive here
// as `signHash` once their digests are known): one consent window listing every document, one
// login, N signatures in order, each reported as it completes.
//
// A batch that fails in the middle (card pulled out, host killed, token error) stops there,
// and the error says exactly what happened: `signed` lists the indexes whose signatures are in
// `signatures`, `notSigned` the others. No document is reported signed without its signature.
//
// `format: "cades"`: each signature is a detached CAdES `.p7s` built by the WASM core
// (formats.rs) around the card's signature of the signed attributes' digest.
//
// Dual-use keys: a `web-eid:1.0` login token is nothing but a signature over
// H(H(origin) ‖ H(nonce)), so a key whose certificate can log in (`loginCapable`) never signs
// a digest the page chose (`format: "raw"`, login purpose `sign-raw`): it would hand the page
// a login token for another site. Such keys sign only what the WASM core builds (CAdES signed
// attributes, `sign-structured`). Raw requests are offered the other certificates only, and
// get RAW_SIGNATURE_REFUSED when none is left (docs/SECURITY.md, « Dual-use keys »).
import { ParapheError } from '../common/api.js';
import * as core from './core.js';
import { certificateChoices, noSuitableCertificate } from './choices.js';
import * as consent from './consent.js';
import * as native from './native.js';
import * as sessions from './sessions.js';

/** Sign requests on their way to the host at once (see signAll). */
const IN_FLIGHT = 4;

/**
 * `request`: a validated `signHash` (wasm/src/request.rs). `progress(p)` reports to the page:
 * `{done, total, signature}` after each document. `ownDigests`: the extension made the
 * digests itself (« Tester ma carte »: the SHA-256 of random bytes), so no page chose them
 * and a login-capable key may sign them (login purpose `sign-structured`).
 * @param {import('./core.js').SignHashRequest} request
 * @param {string} origin
 * @param {chrome.runtime.MessageSender} sender
 * @param {(p: {done: number, total: number, signature: object}) => void} [progress]
 * @param {{ownDigests?: boolean}} [options]
 */
export async function signHash(request, origin, sender, progress = () => {}, { ownDigests = false } = {}) {
  const release = native.hold();
  try {
    const raw = request.format !== 'cades' && !ownDigests; // a digest the page chose
    const purpose = raw ? 'sign-raw' : 'sign-structured';
    const tabTitle = sender.tab?.title ?? '';
    const items = request.items.map(({ hex, hashAlgorithm, name, size }) => ({ hex, hashAlgorithm, name, size }));
    let { choices } = await certificateChoices('signing');
    if (request.certificate) choices = choices.filter((c) => c.fingerprint === request.certificate);
    choices = choices.filter((c) => !c.expired);
    const refused = raw && choices.some((c) => c.loginCapable);
    if (raw) choices = choices.filter((c) => !c.loginCapable);
    if (choices.length === 0) {
      const err = refused
        ? new ParapheError('RAW_SIGNATURE_REFUSED', request.certificate
          ? 'this certificate can also log in to web sites: it signs CAdES (format "cades"), never a digest chosen by the page'
          : 'the signing certificates on the connected tokens can also log in to web sites: they sign CAdES (format "cades"), never a digest chosen by the page')
        : new ParapheError('NO_CERTIFICATE', request.certificate
          ? 'the requested certificate is not on a connected token, or has expired'
          : 'no valid signing certificate on a connected token');
      return await noSuitableCertificate({ origin, tabTitle, kind: 'sign', items }, err);
    }
    // What the format refuses (a PSS request with an EC key, a bad policy) fails here, before
    // the consent window (but through the « no suitable certificate » window for a site not
    // allowed: the refusal says which kind of key is there).
    if (request.format === 'cades') {
      try {
        for (const c of choices) prepareCades(request, request.items[0], c);
      } catch (e) {
        return await noSuitableCertificate({ origin, tabTitle, kind: 'sign', items }, ParapheError.from(e));
      }
    }
    const view = { origin, tabTitle, format: request.format, purpose, items, choices };
    return await consent.ask(view, (choice, pin, window) => sessions.withLogin(choice, pin,
      (session) => signAll(request, choice, session, raw, (done, signature) => {
        window.progress(done, request.items.length);
        progress({ done, total: request.items.length, signature });
      }), purpose));
  } finally {
    release();
  }
}

/**
 * Signs every item, a few requests ahead: the host works on one while the next are on their
 * way (a native-messaging round trip costs several times a software token's signature).
 * Results are reported in order. The first failure stops sending; what was already sent
 * finishes, and the error lists exactly the documents that have a signature. The first
 * document is signed alone, before any other is sent.
 */
async function signAll(request, choice, session, raw, report) {
  const total = request.items.length;
  const results = new Array(total);
  let sent = 0;
  let reported = 0;
  let failure = null;
  const one = async (index) => {
    const item = request.items[index];
    try {
      results[index] = request.format === 'cades'
        ? await signCades(request, item, choice, session)
        : await signRaw(request, item, choice, session, raw);
    } catch (e) {
      failure ??= e;
    }
    while (reported < total && results[reported]) {
      report(reported + 1, { index: reported, ...results[reported] });
      reported++;
    }
  };
  const lane = async () => {
    while (!failure && sent < total) await one(sent++);
  };
  // The first one alone: a key with CKA_ALWAYS_AUTHENTICATE logs in again at each signature,
  // possibly with a PIN of its own (a card's signature PIN); a wrong one must cost one try,
  // not IN_FLIGHT of them.
  await one(sent++);
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total - 1) }, lane));
  if (failure) throw interrupted(failure, results);
  return { certificate: { fingerprint: choice.fingerprint, certificate: choice.certificate }, signatures: results };
}

/** The error of a batch stopped by `e`: which documents have a signature, which do not. */
function interrupted(e, results) {
  const err = ParapheError.from(e);
  const signed = [];
  const notSigned = [];
  for (let i = 0; i < results.length; i++) (results[i] ? signed : notSigned).push(i);
  const message = signed.length > 0 ? `${err.message} (stopped after ${signed.length} of ${results.length} documents)` : err.message;
  return new ParapheError(err.code, message, {
    ...err.details, signed, notSigned, signatures: signed.map((i) => results[i]),
  });
}

async function signRaw(request, item, choice, session, pageChosen) {
  if (pageChosen && choice.loginCapable) throw new ParapheError('RAW_SIGNATURE_REFUSED', 'this certificate can log in: no raw signature');
  let scheme;
  const result = await native.call('sign', (id) => {
    const text = core.signRequest(id, session, item.base64, item.hashAlgorithm,
      request.scheme ?? '', choice.keyType, request.ecdsaEncoding ?? '');
    scheme = JSON.parse(text).arguments.scheme;
    return text;
  });
  return { digest: item.hex, hashAlgorithm: item.hashAlgorithm, scheme, format: 'raw', signature: result.signature };
}

function prepareCades(request, item, choice) {
  const job = {
    cades: {
      digest: item.base64,
      hashAlgorithm: item.hashAlgorithm,
      ...(request.scheme ? { scheme: request.scheme } : {}),
      ...(request.policy ? { policy: request.policy } : {}),
    },
  };
  return core.formatPrepare(job, choice.certificate);
}

/** The card signs the signed attributes' digest; the WASM core wraps it in a `.p7s`. */
async function signCades(request, item, choice, session) {
  const prepared = prepareCades(request, item, choice);
  const result = await native.call('sign', (id) => core.signRequest(id, session, prepared.digest,
    prepared.hashAlgorithm, prepared.scheme, choice.keyType, 'raw'));
  const p7s = core.formatFinish(prepared.state, result.signature);
  return { digest: item.hex, hashAlgorithm: item.hashAlgorithm, scheme: prepared.scheme, format: 'cades', signature: p7s };
}

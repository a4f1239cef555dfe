// The one batch engine: every signature the extension makes with a logged-in key goes through
// `run`, whichever interface asked (page API `signHash` and what arrives as it, LiberSign's
// `sign`, Web eID's `web-eid:sign`). A batch is one consent and one login, then N jobs:
//
//   {raw: {base64, hashAlgorithm, scheme?, ecdsaEncoding?, pageChosen?}}
//       the card signs the digest as given (`pageChosen`: a digest the page chose, which a
//       login-capable key never signs: docs/SECURITY.md, « Dual-use keys »);
//   {format: <wasm/src/formats.rs Job: {cades: …} | {xades: …} | {jeton: …} | {pades: …}>}
//       the WASM core prepares what the card signs (CAdES signed attributes, a XAdES
//       SignedInfo; signing time = when it is sent) and wraps the card's signature;
//       `format` may be a function of the certificate choice giving (a promise of) the job
//       when it is sent (PAdES: the PDF laid out in the tab's extension frame);
//       `timestamp` (the time-stamp authority's URL, settings.js `timestampUrl`): CAdES and
//       PAdES at baseline B-T: once the card signed, the authority time-stamps the signature
//       value (timestamp.js) and the core adds its token; if that fails, the job fails with
//       TIMESTAMP_FAILED and no signature (never a B-B one instead).
//
// Pipelining: the first job is signed alone (a key with CKA_ALWAYS_AUTHENTICATE logs in again
// at each signature, possibly with a PIN of its own: a wrong one must cost one try, not
// IN_FLIGHT of them), then up to IN_FLIGHT requests are on their way to the host at once (a
// native-messaging round trip costs several times a software token's signature). Results are
// reported in order, each as soon as it and every one before it are done.
//
// Interruption: the first failure (card pulled out, host killed, token error) or the consent
// window closed (`signal`) stops sending; what was already sent finishes; then the batch
// fails with the failure's code (USER_CANCELLED for the window) and details saying exactly
// what happened: `signed` (the indexes whose results are in `signatures`, the same that were
// reported) and `notSigned` (the others). No job is reported signed without its signature.
import { ParapheError } from '../common/api.js';
import * as core from './core.js';
import * as native from './native.js';
import { finishTimestamped } from './timestamp.js';

/** Sign requests on their way to the host at once. */
export const IN_FLIGHT = 4;

/**
 * One signature of a batch (the list above); `info` is copied into its result.
 * @typedef {{base64: string, hashAlgorithm: string, scheme?: string, ecdsaEncoding?: string, pageChosen?: boolean}} RawJob
 * @typedef {object} FormatJob a formats.rs `Job`, as JSON
 * @typedef {{
 *   raw?: RawJob, format?: FormatJob | ((choice: Choice) => FormatJob | Promise<FormatJob>),
 *   timestamp?: string, info?: Record<string, unknown>,
 * }} Job
 * @typedef {import('./core.js').Choice} Choice
 * @typedef {{scheme: string, signature: string} & Record<string, unknown>} JobResult
 */

/**
 * Signs `jobs` with `choice`'s key through the logged-in `session`. `report(done, result)`
 * runs in order after each job (`result`: `{index, ...job.info, scheme, signature}`;
 * the results resolved and those in `signatures` have no `index`).
 * `window` (optional, the consent window's handle): progress is shown there, and closing it
 * stops the batch. Resolves with the results in order, or rejects as described above.
 * @param {Job[]} jobs
 * @param {{choice: Choice, session: string, report?: (done: number, result: JobResult & {index: number}) => void,
 *   window?: import('./consent.js').ConsentWindow | null}} options
 * @returns {Promise<JobResult[]>}
 */
export async function run(jobs, { choice, session, report = () => {}, window = null }) {
  const total = jobs.length;
  /** @type {JobResult[]} */
  const results = new Array(total);
  const signal = window?.signal;
  window?.handlesClose?.(); // the window's closing ends the batch here, with its report
  let sent = 0;
  let reported = 0;
  /** @type {unknown} */
  let failure = null;
  const stopped = () => {
    if (!failure && signal?.aborted) failure = new ParapheError('USER_CANCELLED', 'the consent window was closed');
    return failure !== null;
  };
  const one = async (/** @type {number} */ index) => {
    try {
      results[index] = { ...jobs[index].info, ...(await signJob(jobs[index], choice, session)) };
    } catch (e) {
      failure ??= e;
    }
    while (reported < total && results[reported]) {
      const result = { index: reported, ...results[reported] };
      reported++;
      window?.progress?.(reported, total);
      report(reported, result);
    }
  };
  const lane = async () => {
    while (!stopped() && sent < total) await one(sent++);
  };
  if (!stopped()) await one(sent++);
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total - 1) }, lane));
  // Everything signed (the window may have closed as the last one came back): a success.
  if (reported === total) return results;
  stopped();
  throw interrupted(failure, results);
}

/**
 * The error of a batch stopped by `e`: which jobs have a signature, which do not.
 * @param {unknown} e @param {(JobResult | undefined)[]} results
 */
function interrupted(e, results) {
  const err = ParapheError.from(e);
  /** @type {number[]} */
  const signed = [];
  /** @type {number[]} */
  const notSigned = [];
  for (let i = 0; i < results.length; i++) (results[i] ? signed : notSigned).push(i);
  const message = signed.length > 0 ? `${err.message} (stopped after ${signed.length} of ${results.length} documents)` : err.message;
  return new ParapheError(err.code, message, {
    ...err.details, signed, notSigned, signatures: signed.map((i) => results[i]),
  });
}

/**
 * @param {Job} job @param {Choice} choice @param {string} session
 * @returns {Promise<{scheme: string, signature: string}>}
 */
async function signJob(job, choice, session) {
  if (job.raw) {
    const { base64, hashAlgorithm, scheme = '', ecdsaEncoding = '', pageChosen = false } = job.raw;
    if (pageChosen && choice.loginCapable) throw new ParapheError('RAW_SIGNATURE_REFUSED', 'this certificate can log in: no raw signature');
    /** @type {string | undefined} */
    let used;
    const result = await native.call('sign', (id) => {
      const text = core.signRequest(id, session, base64, hashAlgorithm, scheme, choice.keyType, ecdsaEncoding);
      used = JSON.parse(text).arguments.scheme;
      return text;
    });
    return { scheme: /** @type {string} */ (used), signature: result.signature };
  }
  const formatJob = /** @type {FormatJob} */ (typeof job.format === 'function' ? await job.format(choice) : job.format);
  const prepared = await prepare(formatJob, choice, Boolean(job.timestamp));
  const result = await native.call('sign', (id) => core.signRequest(id, session, prepared.digest,
    prepared.hashAlgorithm, prepared.scheme, choice.keyType, 'raw'));
  const signature = prepared.timestamp
    ? await finishTimestamped(String(job.timestamp), prepared.state, result.signature)
    : await core.formatFinish(prepared.state, result.signature);
  return { scheme: prepared.scheme, signature };
}

/**
 * What the card will sign for a format job (signing time = now). Callers use it before the
 * consent window too, so that a value the format refuses fails before any window opens.
 * `timestamp`: baseline B-T (a time-stamp authority is configured).
 * @param {FormatJob} formatJob @param {Choice} choice @param {boolean} [timestamp]
 */
export function prepare(formatJob, choice, timestamp = false) {
  return core.formatPrepare(formatJob, choice.certificate, timestamp);
}

// @ts-check
// The time-stamp authority client (PAdES and CAdES baseline B-T): one RFC 3161 request over
// HTTP, as RFC 3161 §3.4 says (POST, Content-Type application/timestamp-query, the DER
// TimeStampReq as the body; the answer is the DER TimeStampResp).
//
// The authority is the one the settings name (`timestampUrl`, settings.js: the administrator's
// policy, or the options page). What it learns: the SHA-256 of a signature value, a random
// nonce, and the browser's address; never the document, its name or the signer. The WASM core
// builds the request and checks the answer (formats/src/cms/timestamp.rs: granted, a signed
// TSTInfo, this imprint and this nonce); here only the transport is, and every way it fails
// is TIMESTAMP_FAILED, after which no signature is returned (batch.js).
import { ParapheError } from '../common/api.js';
import { base64, fromBase64 } from '../common/base64.js';
import * as core from './core.js';

/** How long the authority has to answer: a stuck one must not hold the batch forever. */
export const TIMEOUT_MS = 30_000;
/** The largest answer read (the core refuses larger ones too). */
const MAX_RESPONSE = 64 * 1024;
/** Bytes of randomness in a nonce. */
const NONCE_BYTES = 16;

/**
 * The card's `signature` of a B-T format job finished with the time-stamp `url` gives: the
 * signed object, base64.
 * @param {string} url @param {object} state the format's state (core.formatPrepare)
 * @param {string} signature base64, as the host returned it
 * @returns {Promise<string>}
 */
export async function finishTimestamped(url, state, signature) {
  const nonce = base64(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
  const request = fromBase64(await core.formatTimestampRequest(state, signature, nonce));
  const response = await post(url, request);
  return core.formatFinishTimestamped(state, signature, response, nonce);
}

/** @param {string} message */
const failed = (message) => new ParapheError('TIMESTAMP_FAILED', message);

/**
 * The authority's answer to `request`: the body of a 200 response.
 * @param {string} url @param {Uint8Array<ArrayBuffer>} request
 * @returns {Promise<Uint8Array>}
 */
async function post(url, request) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/timestamp-query' },
      body: request,
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (e) {
    const why = /** @type {{name?: string, message?: string}} */ (e);
    throw failed(why?.name === 'TimeoutError'
      ? `the time-stamp authority ${url} did not answer within ${TIMEOUT_MS / 1000} s`
      : `the time-stamp authority ${url} could not be reached (${why?.message ?? e})`);
  }
  if (!response.ok) throw failed(`the time-stamp authority ${url} answered HTTP ${response.status}`);
  const length = Number(response.headers.get('Content-Length') ?? 0);
  if (length > MAX_RESPONSE) throw failed(`the time-stamp authority's answer is too large (${length} bytes)`);
  try {
    return await readAtMost(response, MAX_RESPONSE);
  } catch (e) {
    if (e instanceof ParapheError) throw e;
    throw failed(`the time-stamp authority's answer could not be read (${/** @type {Error} */ (e)?.message ?? e})`);
  }
}

/**
 * The body, read as it comes and given up past `limit` bytes (an answer without a
 * Content-Length is not read whole into memory first).
 * @param {Response} response @param {number} limit
 * @returns {Promise<Uint8Array>}
 */
async function readAtMost(response, limit) {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  /** @type {Uint8Array[]} */
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw failed(`the time-stamp authority's answer is too large (over ${limit} bytes)`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

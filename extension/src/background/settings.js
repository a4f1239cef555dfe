// @ts-check
// Extension options (common/store.js: where content scripts cannot write them), with the
// administrator's policy (storage.managed, extension/src/managed_schema.json) winning where
// it sets a value:
//   allowLoopbackHttp: accept pages served over plain http from 127.0.0.1, localhost or
//     [::1]. Off by default; for portal developers (docs/PAGE-API.md).
//   pinSessionMinutes: keep the token logged in that long after a consent (0: the PIN is
//     asked for every consent; at most 480). See sessions.js.
//   timestampUrl: the RFC 3161 time-stamp authority (http or https URL); set, CAdES and PAdES
//     signatures of the page API and « Signer des fichiers » are baseline B-T, and one the
//     authority does not time-stamp fails (TIMESTAMP_FAILED). '' (default): B-B. timestamp.js.
import { api } from '../common/api.js';
import * as store from '../common/store.js';

const DEFAULTS = { allowLoopbackHttp: false, pinSessionMinutes: 0, timestampUrl: '' };
/** @typedef {keyof typeof DEFAULTS} Key */
const KEYS = /** @type {Key[]} */ (Object.keys(DEFAULTS));

/** @returns {Promise<{[key: string]: unknown}>} the policy's values, none without a policy */
async function managed() {
  try {
    return await api.storage.managed.get(KEYS);
  } catch {
    return {}; // no policy (Firefox rejects when no managed-storage manifest is installed)
  }
}

// The policy's values are checked as the store checks the person's.
/** @param {{[key: string]: unknown}} values @returns {Partial<typeof DEFAULTS>} */
const valid = (values) => Object.fromEntries(Object.entries(values)
  .filter(([k, v]) => Object.hasOwn(DEFAULTS, k) && store.check(/** @type {Key} */ (k), v) !== null));

/** The effective options, and which of them the administrator set (`managed`). */
export async function settings() {
  const [stored, policy] = await Promise.all([store.get(KEYS), managed()]);
  const forced = valid(policy);
  return { ...DEFAULTS, ...stored, ...forced, managed: Object.keys(forced) };
}

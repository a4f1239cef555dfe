// @ts-check
// Card logins and the PIN session policy (docs/PAGE-API.md, « PIN session »).
//
// Every use of a key goes through `withLogin`: by default it logs in with the PIN typed in
// the consent window, does the work (one signature, a batch, an unwrap) and logs out, so the
// PIN is asked once per consent. With `pinSessionMinutes` > 0 (the options page, or the
// administrator's managed storage, which wins), the login is kept for that long: the next
// consent for the same certificate still opens the window (every use needs the person's
// consent) but asks no PIN. The host enforces the time-to-live itself (`login.ttlSeconds`).
//
// A kept login ends early when: the card is removed (the host ends it and reports the event;
// should a use come first, it gets SESSION_NOT_FOUND and the window asks the PIN again), the
// session is locked
// (`idle` state "locked"), the person clicks « Oublier le code PIN » (`logoutAll`), or the
// native host goes away. The PIN itself is never kept: only the host's session id.
//
// Every login declares its purpose (`authenticate`, `sign-structured`, `sign-raw`, `decrypt`;
// docs/PROTOCOL.md, `login`), and a kept login is kept for (certificate, purpose): a PIN
// session opened to sign a CAdES document is never reused to make a login token or to sign a
// page's raw digest. The host checks the purpose of every use of a session as well.
import { api, ParapheError } from '../common/api.js';
import * as core from './core.js';
import * as native from './native.js';
import { settings } from './settings.js';

/** A kept login closer than this to its end is not reused: a batch must not run out mid-way. */
const MARGIN_MS = 60_000;

/** @typedef {import('./core.js').LoginPurpose} LoginPurpose */
/** @type {string[]} */
export const PURPOSES = ['authenticate', 'sign-structured', 'sign-raw', 'decrypt'];

/** @type {Map<string, {session: string, until: number, release: () => void, timer: ReturnType<typeof setTimeout>}>} */
const kept = new Map(); // `${fingerprint} ${purpose}` → {session, until, release, timer}
const keyOf = (/** @type {string} */ fingerprint, /** @type {string | undefined} */ purpose) => `${fingerprint} ${purpose}`;

/**
 * When the kept login for this certificate and purpose ends (ms since epoch), or null.
 * @param {string} fingerprint
 * @param {string | undefined} purpose
 * @returns {number | null}
 */
export function keptUntil(fingerprint, purpose) {
  const k = kept.get(keyOf(fingerprint, purpose));
  return k && k.until - MARGIN_MS > Date.now() ? k.until : null;
}

/** @param {string} key @param {{logout?: boolean}} [options] */
function forget(key, { logout = true } = {}) {
  const k = kept.get(key);
  if (!k) return;
  kept.delete(key);
  clearTimeout(k.timer);
  if (logout) native.call('logout', (id) => core.logoutRequest(id, k.session)).catch(() => {});
  k.release();
}

/** Ends every kept login (« Oublier le code PIN », screen locked). Returns how many ended. */
export function logoutAll() {
  const n = kept.size;
  for (const key of [...kept.keys()]) forget(key);
  return n;
}

/**
 * Runs `work(session)` logged in with `choice`'s key for `purpose` (one of PURPOSES, always
 * given: what the login may be used for). `pin` is what the consent window sent:
 * undefined for a PIN pad, or when the window showed a kept login (no PIN asked). A kept
 * login the host no longer knows becomes PIN_REQUIRED, so the window asks for the PIN;
 * `work` must then not have done anything yet, which holds because its first host call is
 * what fails.
 * @template T
 * @param {import('../common/types.js').ConsentChoice} choice
 * @param {string | undefined} pin
 * @param {(session: string) => Promise<T>} work
 * @param {LoginPurpose} purpose
 * @returns {Promise<T>}
 */
export async function withLogin(choice, pin, work, purpose) {
  if (!PURPOSES.includes(purpose)) throw new ParapheError('INTERNAL', `withLogin: unknown purpose ${purpose}`);
  const key = keyOf(choice.fingerprint, purpose);
  if (pin === undefined && keptUntil(choice.fingerprint, purpose)) {
    const { session } = /** @type {{session: string}} */ (kept.get(key));
    try {
      return await work(session);
    } catch (e) {
      const err = ParapheError.from(e);
      if (err.code !== 'SESSION_NOT_FOUND' || /** @type {{signed?: unknown[]}} */ (err.details)?.signed?.length) throw e;
      forget(key, { logout: false });
      throw new ParapheError(choice.pinPad ? 'SESSION_NOT_FOUND' : 'PIN_REQUIRED', 'the PIN session ended: type the PIN again');
    }
  }
  forget(key);
  const minutes = (await settings()).pinSessionMinutes;
  const ttl = minutes > 0 ? minutes * 60 : undefined;
  const login = await native.call('login', (id) => core.loginRequest(id, choice.fingerprint, pin, ttl, purpose, choice));
  let keep = false;
  try {
    const result = await work(login.session);
    keep = ttl !== undefined;
    return result;
  } finally {
    if (keep) remember(key, login.session, Number(ttl) * 1000);
    else native.call('logout', (id) => core.logoutRequest(id, login.session)).catch(() => {});
  }
}

/** @param {string} key @param {string} session @param {number} ttlMs */
function remember(key, session, ttlMs) {
  const until = Date.now() + ttlMs;
  // The host process holds the login: the native port stays open while it is kept.
  const release = native.hold();
  const timer = setTimeout(() => forget(key, { logout: false }), ttlMs);
  kept.set(key, { session, until, release, timer });
}

// A locked screen ends kept logins (Chromium and Firefox report "locked" where the OS tells).
api.idle?.onStateChanged?.addListener((state) => {
  if (state === 'locked') logoutAll();
});
// A card went away: the host ended its logins; forget them all here (another card's kept
// login is logged out too, which only means one more PIN entry).
native.onEvent((name) => {
  if (name === 'card-removed') logoutAll();
});
// The host went away: its logins with it.
native.onClose(() => {
  for (const key of [...kept.keys()]) forget(key, { logout: false });
});

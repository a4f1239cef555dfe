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
import { api, ParapheError } from '../common/api.js';
import { core } from './core.js';
import * as native from './native.js';
import { settings } from './settings.js';

/** A kept login closer than this to its end is not reused: a batch must not run out mid-way. */
const MARGIN_MS = 60_000;

const kept = new Map(); // fingerprint → {session, until, release, timer}

/** When the kept login for this certificate ends (ms since epoch), or null. */
export function keptUntil(fingerprint) {
  const k = kept.get(fingerprint);
  return k && k.until - MARGIN_MS > Date.now() ? k.until : null;
}

function forget(fingerprint, { logout = true } = {}) {
  const k = kept.get(fingerprint);
  if (!k) return;
  kept.delete(fingerprint);
  clearTimeout(k.timer);
  if (logout) native.call('logout', (id) => core().logout_request(id, k.session)).catch(() => {});
  k.release();
}

/** Ends every kept login (« Oublier le code PIN », screen locked). Returns how many ended. */
export function logoutAll() {
  const n = kept.size;
  for (const fingerprint of [...kept.keys()]) forget(fingerprint);
  return n;
}

/**
 * Runs `work(session)` logged in with `choice`'s key. `pin` is what the consent window sent:
 * undefined for a PIN pad, or when the window showed a kept login (no PIN asked). A kept
 * login the host no longer knows becomes PIN_REQUIRED, so the window asks for the PIN;
 * `work` must then not have done anything yet, which holds because its first host call is
 * what fails.
 */
export async function withLogin(choice, pin, work, purpose = 'sign-raw') {
  if (pin === undefined && keptUntil(choice.fingerprint)) {
    const { session } = kept.get(choice.fingerprint);
    try {
      return await work(session);
    } catch (e) {
      const err = ParapheError.from(e);
      if (err.code !== 'SESSION_NOT_FOUND' || err.details?.signed?.length) throw e;
      forget(choice.fingerprint, { logout: false });
      throw new ParapheError(choice.pinPad ? 'SESSION_NOT_FOUND' : 'PIN_REQUIRED', 'the PIN session ended: type the PIN again');
    }
  }
  forget(choice.fingerprint);
  const minutes = (await settings()).pinSessionMinutes;
  const ttl = minutes > 0 ? minutes * 60 : undefined;
  const login = await native.call('login', (id) => core().login_request(id, choice.fingerprint, pin, ttl, purpose));
  let keep = false;
  try {
    const result = await work(login.session);
    keep = ttl !== undefined;
    return result;
  } finally {
    if (keep) remember(choice.fingerprint, login.session, ttl * 1000);
    else native.call('logout', (id) => core().logout_request(id, login.session)).catch(() => {});
  }
}

function remember(fingerprint, session, ttlMs) {
  const until = Date.now() + ttlMs;
  // The host process holds the login: the native port stays open while it is kept.
  const release = native.hold();
  const timer = setTimeout(() => forget(fingerprint, { logout: false }), ttlMs);
  kept.set(fingerprint, { session, until, release, timer });
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
  for (const fingerprint of [...kept.keys()]) forget(fingerprint, { logout: false });
});

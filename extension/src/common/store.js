// @ts-check
// The person's settings and grants, where only the extension can read or write them.
//
// storage.local is open to content scripts (Firefox always; Chromium unless the access level
// is narrowed), and a content script runs in the web page's process: a compromised page
// process could grant itself the certificates, the LiberSign interface or a longer PIN
// session. So these values live in IndexedDB of the extension's own origin
// (chrome-extension:// / moz-extension://), which only the background and the extension's
// pages reach; a content script's `indexedDB` is the web page's. (storage.session is closed
// to content scripts too, but it is forgotten when the browser stops; Chromium can close
// storage.local with setAccessLevel, Firefox cannot: one mechanism for both.) Chromium's
// storage.local is narrowed to trusted contexts as well (background.js), for anything else
// kept there.
//
// Every value is checked on the way in and on the way out (types, ranges, well-formed
// origins), so a damaged database reads as the defaults. Values kept in storage.local by
// earlier versions are moved here once (`migrate`, from the background).
//
// Keys:
//   allowLoopbackHttp       boolean (settings.js)
//   pinSessionMinutes       integer 0…480 (settings.js, sessions.js)
//   certificateListOrigins  origins allowed to read certificates (background/disclosure.js)
//   libersignOrigins        origins with the LiberSign interface (common/allowlist.js)
//   libersignPolicySeen     the policy's libersignOrigins as last read (background/libersign.js:
//                           registered at start before Chromium answers storage.managed)
//   nexuOrigins             origins where NexU is answered in the page (background/nexu.js)
//   radar                   boolean: the radar runs (background/radar.js; default on)
//   timestampUrl            the RFC 3161 time-stamp authority (settings.js; '' = none: B-B)
// A change is announced to the extension's other contexts with a runtime message
// {kind: "store-changed", keys}, which also wakes the background; `onChanged` listens.
import { api } from './api.js';

const DB_NAME = 'paraphe';
const TABLE = 'settings';
const MIGRATED = '#migrated'; // marker: storage.local was read once
const MAX_ORIGINS = 1000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * `https://host[:port]` (or `http://` on a loopback host) from what a person or a policy
 * wrote, or null. A trailing slash or path is dropped; anything else that is not an origin
 * (credentials, another scheme, a wildcard) is refused.
 * @param {unknown} text
 * @returns {string | null}
 */
export function normalizeOrigin(text) {
  let url;
  try {
    url = new URL(String(text).trim());
  } catch {
    return null;
  }
  if (url.username || url.password || url.hostname.includes('*')) return null;
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url.origin;
  return null;
}

/**
 * An RFC 3161 time-stamp authority's address, as written, or null: an http or https URL (many
 * authorities serve RFC 3161 over plain http: the answer is signed, checked against the
 * request, and the request is a hash), without credentials or a fragment, at most 2048
 * characters.
 * @param {unknown} v
 * @returns {string | null}
 */
export function normalizeTimestampUrl(v) {
  if (typeof v !== 'string' || v.length > 2048) return null;
  let url;
  try {
    url = new URL(v.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password || url.hash) return null;
  return url.href;
}

/**
 * A list of origins, each already in its normalized form; null if it is not one.
 * @param {unknown} v
 * @returns {string[] | null}
 */
function originList(v) {
  if (!Array.isArray(v) || v.length > MAX_ORIGINS) return null;
  if (!v.every((o) => typeof o === 'string' && normalizeOrigin(o) === o)) return null;
  return [...new Set(v)];
}

/**
 * The values kept here, by key (see the list above); each one optional (unset: the default).
 * @typedef {{
 *   allowLoopbackHttp?: boolean,
 *   pinSessionMinutes?: number,
 *   certificateListOrigins?: string[],
 *   libersignOrigins?: string[],
 *   libersignPolicySeen?: string[],
 *   nexuOrigins?: string[],
 *   radar?: boolean,
 *   timestampUrl?: string,
 * }} Settings
 * @typedef {keyof Settings} SettingKey
 */

/**
 * Each key's check: the value to keep, or null when the value is not acceptable.
 * @type {{ [K in SettingKey]-?: (v: unknown) => Settings[K] | null }}
 */
const CHECKS = {
  allowLoopbackHttp: (v) => (typeof v === 'boolean' ? v : null),
  pinSessionMinutes: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 480 ? v : null),
  certificateListOrigins: originList,
  libersignOrigins: originList,
  libersignPolicySeen: originList,
  nexuOrigins: originList,
  radar: (v) => (typeof v === 'boolean' ? v : null),
  timestampUrl: (v) => (v === '' ? '' : normalizeTimestampUrl(v)),
};
export const KEYS = /** @type {SettingKey[]} */ (Object.keys(CHECKS));

/** @param {unknown} key @returns {key is SettingKey} */
const isKey = (key) => typeof key === 'string' && Object.hasOwn(CHECKS, key); // not `in`: 'toString' is no key

/** @type {Promise<IDBDatabase> | null} */
let opening = null;
/** @returns {Promise<IDBDatabase>} */
function database() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(TABLE);
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
  });
  return opening;
}

/**
 * Runs `fn(table)` in one transaction; resolves with its result once committed.
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(table: IDBObjectStore) => T | Promise<T>} fn
 * @returns {Promise<T | undefined>}
 */
async function transaction(mode, fn) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(TABLE, mode);
    /** @type {T | undefined} */
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('store transaction aborted'));
    Promise.resolve(fn(tx.objectStore(TABLE))).then((r) => { result = r; }, (e) => {
      tx.abort();
      reject(e);
    });
  });
}

/**
 * @template T
 * @param {IDBRequest<T>} r
 * @returns {Promise<T>}
 */
const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

/**
 * `value` if it is acceptable under `key`, else null (also used for policy values).
 * @template {SettingKey} K
 * @param {K} key
 * @param {unknown} value
 * @returns {Settings[K] | null}
 */
export function check(key, value) {
  if (!isKey(key)) throw new Error(`unknown setting ${key}`);
  const ok = /** @type {(v: unknown) => Settings[K] | null} */ (CHECKS[key]);
  return value === undefined ? null : ok(value);
}

/**
 * The values of `keys` (all by default) that are set and valid: `{key: value}`; a key that
 * is missing or holds something unacceptable is left out (the caller's default applies).
 * @param {readonly SettingKey[]} [keys]
 * @returns {Promise<Settings>}
 */
export async function get(keys = KEYS) {
  await migrated();
  const wanted = keys.filter(isKey);
  const values = await transaction('readonly', (t) => Promise.all(wanted.map((k) => request(t.get(k)))));
  /** @type {Record<string, unknown>} */
  const out = {};
  wanted.forEach((k, i) => {
    const v = check(k, /** @type {unknown[]} */ (values)[i]);
    if (v !== null) out[k] = v;
  });
  return /** @type {Settings} */ (out);
}

/**
 * Stores `values` (`{key: value}`; `undefined` removes the key). Throws on a bad value.
 * @param {Settings} values
 */
export async function set(values) {
  await migrated();
  const checked = Object.entries(values).map(([k, v]) => {
    const c = check(/** @type {SettingKey} */ (k), v);
    if (v !== undefined && c === null) throw new Error(`invalid value for ${k}`);
    return /** @type {[SettingKey, unknown]} */ ([k, c]);
  });
  await transaction('readwrite', (t) => {
    for (const [k, v] of checked) {
      if (v === null) t.delete(k);
      else t.put(v, k);
    }
  });
  changed(checked.map(([k]) => k), true);
}

/**
 * Adds `origin` to the list under `key`, or takes it off (`add` false), in one transaction.
 * @param {SettingKey} key
 * @param {string} origin
 * @param {boolean} add
 */
export async function updateList(key, origin, add) {
  if (CHECKS[key] !== originList) throw new Error(`${key} is not a list of origins`);
  if (normalizeOrigin(origin) !== origin) throw new Error('not an origin');
  await migrated();
  await transaction('readwrite', async (t) => {
    const list = originList(await request(t.get(key))) ?? [];
    const next = add ? [...new Set([...list, origin])] : list.filter((o) => o !== origin);
    if (next.length > MAX_ORIGINS) throw new Error('too many origins');
    t.put(next, key);
  });
  changed([key], true);
}

/** @typedef {(keys: SettingKey[]) => void} Listener */
/** @type {Set<Listener>} */
const listeners = new Set();

/**
 * `fn(keys)` after a change, whichever extension context made it.
 * @param {Listener} fn
 */
export function onChanged(fn) {
  listeners.add(fn);
}

/**
 * @param {SettingKey[]} keys
 * @param {boolean} announce
 */
function changed(keys, announce) {
  for (const fn of listeners) {
    try {
      fn(keys);
    } catch (e) {
      console.warn('store listener:', e);
    }
  }
  if (announce) api.runtime.sendMessage({ kind: 'store-changed', keys }).catch(() => { /* nobody listening */ });
}

// Announcements from the extension's other contexts (never from a content script: its
// sender URL is the web page's).
api.runtime.onMessage.addListener((msg, sender) => {
  if (msg?.kind !== 'store-changed' || sender.id !== api.runtime.id) return false;
  if (!String(sender.url ?? '').startsWith(api.runtime.getURL(''))) return false;
  changed(Array.isArray(msg.keys) ? msg.keys.filter(isKey) : KEYS, false);
  return false;
});

/** @type {Promise<void> | null} */
let migrating = null;
/**
 * Once: the values earlier versions kept in storage.local come here (checked like any
 * other), then leave storage.local. Values already here win.
 */
function migrated() {
  migrating ??= (async () => {
    const done = await transaction('readonly', (t) => request(t.get(MIGRATED)));
    if (done) return;
    /** @type {Record<string, unknown>} */
    let old = {};
    try {
      old = await api.storage.local.get(KEYS);
    } catch { /* nothing to move */ }
    await transaction('readwrite', async (t) => {
      for (const k of KEYS) {
        const v = check(k, old[k]);
        if (v !== null && (await request(t.get(k))) === undefined) t.put(v, k);
      }
      t.put(true, MIGRATED);
    });
    await api.storage.local.remove(KEYS).catch(() => {});
  })();
  const m = migrating;
  m.catch(() => { migrating = null; });
  return m;
}

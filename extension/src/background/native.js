// @ts-check
// The only module that talks to the native host (`connectNative`). One long-lived port:
// opened on first use, kept open while work is pending (a consent window counts as work,
// since its login session lives in the host process), closed after a short idle time.
import { api, ParapheError } from '../common/api.js';
import * as core from './core.js';

const HOST = 'fr.paraphe.host';
const HELLO_TIMEOUT_MS = 5_000;
const IDLE_CLOSE_MS = 15_000;
/** @type {Record<string, number>} */
const COMMAND_TIMEOUT_MS = { login: 180_000 }; // a PIN pad waits for the person
const DEFAULT_TIMEOUT_MS = 60_000;

/** @type {chrome.runtime.Port | null} */
let port = null;
/** The host's `hello` (docs/PROTOCOL.md). @typedef {{version: string, protocol: number, os?: string}} HelloInfo */
/** @type {Promise<HelloInfo> | null} */
let hello = null; // Promise of the host's hello event data
let nextId = 1;
/** @type {Map<unknown, {resolve: (result: any) => void, reject: (error: unknown) => void, timer: ReturnType<typeof setTimeout>}>} */
const pending = new Map(); // id (ours: a number; looked up with the host's) → {resolve, reject, timer}
/** @type {Map<unknown, string[]>} */
const chunks = new Map(); // id → string[]
let holds = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let idleTimer;

/** @type {Set<() => void>} */
const closeListeners = new Set();
/**
 * `listener()` runs whenever the port to the host closes (its logins end with it).
 * @param {() => void} listener
 */
export function onClose(listener) {
  closeListeners.add(listener);
}

/** @param {chrome.runtime.Port} port_ the port that closed @param {unknown} error */
function fail(port_, error) {
  for (const listener of closeListeners) listener();
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.reject(error);
    pending.delete(id);
  }
  chunks.clear();
  if (port === port_) {
    port = null;
    hello = null;
  }
}

/** @param {string} detail */
function hostUnavailable(detail) {
  return new ParapheError('HOST_UNAVAILABLE', `the native host ${HOST} could not be reached: ${detail}`);
}

function open() {
  const p = api.runtime.connectNative(HOST);
  port = p;
  /** @type {(info: {version: string, protocol: number, os?: string}) => void} */
  let sayHello = () => {};
  /** @type {(reason: unknown) => void} */
  let refuse = () => {};
  hello = new Promise((resolve, reject) => {
    sayHello = resolve;
    refuse = reject;
  });
  const timer = setTimeout(() => {
    refuse(hostUnavailable('no hello from the host'));
    if (port === p) {
      p.disconnect();
      fail(p, hostUnavailable('no hello from the host'));
    }
  }, HELLO_TIMEOUT_MS);
  hello.then(() => clearTimeout(timer), () => clearTimeout(timer));
  p.onMessage.addListener((msg) => onMessage(msg, sayHello, p));
  p.onDisconnect.addListener((dp) => {
    // Chromium reports why in runtime.lastError, Firefox in port.error. A missing or
    // refused host manifest ends here at once, before any hello.
    const why = api.runtime.lastError?.message ?? /** @type {{error?: {message?: string}}} */ (dp)?.error?.message ?? 'the host exited';
    const err = hostUnavailable(why);
    refuse(err);
    fail(p, err);
  });
  return hello;
}

/**
 * A message of the host (docs/PROTOCOL.md): an event, a slice of a large response's JSON
 * text, or a response (`result` or `error`) to the request `id`.
 * @typedef {{
 *   event?: string, data?: import('../common/types.js').EventData,
 *   chunk?: {index: number, count: number, data: string},
 *   id?: number, result?: unknown, error?: import('../common/types.js').ErrorJson,
 * }} HostMessage
 */

/**
 * One message of the host (docs/PROTOCOL.md): an event, a slice of a large response, or a response.
 * @param {HostMessage | null | undefined} msg the host's JSON
 * @param {(info: {version: string, protocol: number, os?: string}) => void} sayHello
 * @param {chrome.runtime.Port} from
 */
function onMessage(msg, sayHello, from) {
  if (msg && msg.event) {
    if (msg.event === 'hello') sayHello?.(/** @type {HelloInfo} */ (msg.data));
    // Card events (docs/PROTOCOL.md, « Events »): cards.js keeps the state and fans them out.
    for (const listener of eventListeners) listener(msg.event, msg.data ?? {});
    if (msg.event === 'restart-required') {
      // A PKCS#11 module is stuck in this host process (it answered MODULE_NOT_RESPONDING
      // and exits): drop its port; the next call starts a new host.
      drop(from, new ParapheError('MODULE_NOT_RESPONDING',
        msg.data?.message ?? 'the host asked to be restarted'));
    }
    return;
  }
  if (msg && msg.chunk) {
    // A response over 1 MiB arrives in slices of its JSON text (protocol envelope.rs).
    const { index, count, data } = msg.chunk;
    const parts = chunks.get(msg.id) ?? [];
    parts[index] = data;
    chunks.set(msg.id, parts);
    if (parts.filter((/** @type {string | undefined} */ x) => x !== undefined).length === count) {
      chunks.delete(msg.id);
      onMessage(JSON.parse(parts.join('')), sayHello, from);
    }
    return;
  }
  const p = pending.get(msg?.id);
  if (!p || !msg) return; // (msg: p was found by its id)
  pending.delete(msg.id);
  clearTimeout(p.timer);
  if (msg.error) {
    const { code, message, ...details } = msg.error;
    p.reject(new ParapheError(code, message, details));
  } else {
    p.resolve(msg.result);
  }
  scheduleIdleClose();
}

async function ensureOpen() {
  clearTimeout(idleTimer);
  if (!port) {
    try {
      open();
    } catch (e) {
      port = null;
      hello = null;
      throw hostUnavailable(String(e?.message ?? e));
    }
  }
  const info = await /** @type {NonNullable<typeof hello>} */ (hello);
  if (info.protocol !== core.protocolVersion()) {
    throw new ParapheError('HOST_INCOMPATIBLE',
      `the host speaks protocol ${info.protocol}, this extension ${core.protocolVersion()}`);
  }
  return info;
}

function scheduleIdleClose() {
  clearTimeout(idleTimer);
  if (holds > 0 || pending.size > 0) return;
  idleTimer = setTimeout(() => {
    if (holds === 0 && pending.size === 0 && port) {
      const p = port;
      port = null;
      hello = null;
      p.disconnect();
    }
  }, IDLE_CLOSE_MS);
}

/**
 * Sends one request. `build(id)` returns its JSON text (built by the WASM core) or object;
 * an object instead of `build`: the request's arguments.
 * @param {string} command
 * @param {((id: import('./core.js').RequestId) => string | object) | object} [build]
 * @returns {Promise<any>} the command's result (docs/PROTOCOL.md)
 */
export async function call(command, build) {
  await ensureOpen();
  const id = nextId++;
  const body = typeof build === 'function' ? build(id) : { id, command, arguments: build ?? {} };
  const message = typeof body === 'string' ? JSON.parse(body) : body;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new ParapheError('TIMEOUT', `the host did not answer ${command} in time`));
      scheduleIdleClose();
    }, COMMAND_TIMEOUT_MS[command] ?? DEFAULT_TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer });
    try {
      port?.postMessage(message);
    } catch (e) {
      pending.delete(id);
      clearTimeout(timer);
      reject(hostUnavailable(String(e?.message ?? e)));
    }
  });
}

/** @typedef {(name: string, data: import('../common/types.js').EventData) => void} EventListener */
/** @type {Set<EventListener>} */
const eventListeners = new Set();
/**
 * `listener(name, data)` runs for every unprompted host event: `hello` (a new host process), card events.
 * @param {EventListener} listener
 */
export function onEvent(listener) {
  eventListeners.add(listener);
}

/** Whether the port to the host is open now. */
export const isOpen = () => port !== null;

/** Ids of the requests waiting for an answer. */
export const pendingIds = () => [...pending.keys()];

/**
 * Gives up on this host process: its pending requests fail with `error` and the port closes
 * (the browser then ends the process); the next call starts a new one. The host restarts
 * itself when a module is stuck (`restart-required`, above); this is cards.js's fallback for
 * hosts older than that.
 * @param {unknown} error
 */
export function abandon(error) {
  drop(port, error);
}

/** @param {chrome.runtime.Port | null} p @param {unknown} error */
function drop(p, error) {
  if (!p) return;
  try {
    p.disconnect();
  } catch { /* already gone */ }
  fail(p, error);
}

/** The host's hello (opens the port if needed). */
export const helloInfo = () => ensureOpen();

/** Keeps the port open until the returned function is called (consent windows). */
export function hold() {
  holds++;
  clearTimeout(idleTimer);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds--;
    scheduleIdleClose();
  };
}

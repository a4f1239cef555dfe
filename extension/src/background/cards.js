// @ts-check
// Readers and cards, live: the host pushes PC/SC events on the native port (docs/PROTOCOL.md,
// « Events »); this module keeps the last known state and fans every event out to the
// extension pages that show cards (popup, « Tester ma carte », consent window) over runtime
// ports named `cards`. No polling anywhere: while such a page is open, the native port is
// held open, so that the host's card monitor keeps running and its events keep coming.
//
// Messages to a page:
//   {type:"state", state}                       on connect, and when a new host process starts
//   {type:"event", event, data, initial, state} after each card event (state already updated;
//                                               `initial`: a new host process re-reports a
//                                               reader or card that was already known)
//   {type:"error", error}                       the host could not be reached
// `state` = {pcsc: {available: true|false|null, message}, readers: [{reader, atr, card,
//            middleware, present, since}]}   (`present`: a card is in the reader)
import { api, ParapheError } from '../common/api.js';
import * as native from './native.js';

export const PORT_NAME = 'cards';

/** @typedef {import('../common/types.js').Reader} Reader */
/** @type {Map<string, Reader>} */
const readers = new Map(); // reader name → {reader, atr, card, middleware, present, since}
/** @type {Map<string, Reader>} */
let before = new Map(); // the readers known before the current host process started
/** @type {{available: boolean | null, message: string | null}} */
let pcsc = { available: null, message: null };
/** @type {Set<chrome.runtime.Port>} */
const ports = new Set();

/** @returns {import('../common/types.js').CardsState} */
function state() {
  return { pcsc: { ...pcsc }, readers: [...readers.values()].map((r) => ({ ...r })) };
}

/** @param {chrome.runtime.Port} port @param {object} message (the list above) */
function post(port, message) {
  try {
    port.postMessage(message);
  } catch { /* the page went away */ }
}

/** @param {object} message */
function broadcast(message) {
  for (const port of ports) post(port, message);
}

/** @param {string} reader @returns {Reader} */
function empty(reader) {
  return { reader, atr: null, card: null, middleware: null, present: false, since: Date.now() };
}

native.onEvent((event, eventData) => {
  // Every event handled below but `hello`, `restart-required` and `pcsc-unavailable` names
  // its reader (docs/PROTOCOL.md, « Events »); those three do not read it.
  const data = /** @type {import('../common/types.js').EventData & {reader: string}} */ (eventData);
  const was = before.get(data.reader);
  let initial = false;
  switch (event) {
    case 'hello':
      // A new host process: it reports every reader and card present again. What is reported
      // as it was before is not news (`initial`): pages update, but announce nothing.
      before = new Map(readers);
      readers.clear();
      pcsc = { available: null, message: null };
      broadcast({ type: 'state', state: state() });
      return;
    case 'reader-added':
      initial = !!was;
      if (!readers.has(data.reader)) readers.set(data.reader, empty(data.reader));
      pcsc = { available: true, message: null };
      break;
    case 'reader-removed':
      readers.delete(data.reader);
      break;
    case 'card-inserted':
      initial = !!was?.present && was.atr === (data.atr ?? null);
      readers.set(data.reader, {
        reader: data.reader,
        atr: data.atr ?? null,
        card: data.card ?? null,
        middleware: data.middleware ?? null,
        present: true,
        since: Date.now(),
      });
      pcsc = { available: true, message: null };
      break;
    case 'card-removed':
      readers.set(data.reader, empty(data.reader));
      watchdog(data.reader);
      break;
    case 'restart-required':
      // native.js drops this host's port right after the listeners ran; pages that show
      // cards want events from the new process.
      setTimeout(() => {
        if (ports.size > 0) native.helloInfo().catch(() => {});
      }, 0);
      return;
    case 'pcsc-unavailable':
      readers.clear();
      pcsc = { available: false, message: data.message ?? null };
      break;
    default:
      return; // an event this version does not know (protocol: ignore it)
  }
  if (!initial) before.delete(data.reader);
  broadcast({ type: 'event', event, data, initial, state: state() });
});

// A card pulled out while the host talks to it must end the request at once with a clear
// error. The host does it by itself: a module call has a deadline, shortened to 1 s once the
// card is reported removed, and a module stuck past it (OpenSC 0.23 can deadlock on its own
// card lock when the card goes mid-operation) is answered MODULE_NOT_RESPONDING, followed by
// the `restart-required` event, on which native.js drops the port (the next call starts a new
// host). So nothing waits longer than about 1.3 s after card-removed.
// Fallback, still needed for hosts older than those deadlines (the extension updates from
// its store before the host package does): requests still unanswered GRACE_MS after a
// card-removed event make the extension give up on that host process and start a new one.
// GRACE_MS is well above the host's own deadline, so it never fires with a current host
// (unless an administrator set the host's `deadlines.removedMs` above it).
const GRACE_MS = 5000;

/** @param {string | undefined} reader */
function watchdog(reader) {
  const waiting = native.pendingIds();
  if (waiting.length === 0) return;
  setTimeout(() => {
    const stuck = native.pendingIds().filter((id) => waiting.includes(id));
    if (stuck.length === 0) return;
    native.abandon(new ParapheError('TOKEN_NOT_PRESENT',
      `the card was removed from ${reader} and the host did not answer within ${GRACE_MS} ms: host restarted`));
    // Pages that show cards want events from the new process.
    if (ports.size > 0) native.helloInfo().catch(() => {});
  }, GRACE_MS);
}

/** The last known readers and cards (for the diagnostics report). */
export const current = () => state();

/** A page that shows cards connected: hold the native port open while it stays. @param {chrome.runtime.Port} port */
export function onConnect(port) {
  if (!port.sender?.url?.startsWith(api.runtime.getURL(''))) {
    port.disconnect();
    return;
  }
  ports.add(port);
  const release = native.hold();
  port.onDisconnect.addListener(() => {
    ports.delete(port);
    release();
  });
  post(port, { type: 'state', state: state() });
  // Opens the port if it was closed: the host's monitor then reports what is present.
  native.helloInfo().catch((e) => post(port, { type: 'error', error: ParapheError.from(e).toJSON() }));
}

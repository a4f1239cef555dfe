// @ts-check
// How the pli workers talk to each other: through the document that started them all
// (pli/to-file.js), each worker's own postMessage to it, which the document passes on to the
// other worker (the pieces' buffers handed over again, not copied). Neither of the obvious
// ways works in Firefox:
//  - a worker that starts the next one (`new Worker()` on a worker) now and then never
//    returned there, and that worker's thread stopped with it (decrypt.test.js hung in about
//    1 run in 8: found with PARAPHE_FIREFOX_CONSOLE=1);
//  - MessageChannel ports between the workers: with them, Firefox's « Ouvrir un pli » took
//    1.5× as long as with the workers' own messages (AES-256-CBC, 100 MiB: 0.80–0.87 s
//    against 0.55–0.57 s, measured side by side; docs/BENCHMARKS.md).
// A link has the few calls of a MessagePort that the workers' code uses. Each message on the
// wire is `{link: name, message}`, `name` the link's at the receiving end; a worker's other
// messages (its own protocol with the document) have no `link` and are not touched.

/**
 * One end of a link: `postMessage(message, transfer)`, `onmessage` ({data: message}), `close()`.
 * @typedef {{postMessage: (message: any, transfer?: Transferable[]) => void,
 *   onmessage: ((event: {data: any}) => void) | null, close: () => void}} Link
 */

/**
 * In a worker: the end of the link `name`, over the worker's messages with its document.
 * @param {string} name
 * @returns {Link}
 */
export function workerLink(name) {
  // A worker's scope (the DOM's types know only Window's `self`): postMessage(message, {transfer}).
  const scope = /** @type {EventTarget & {postMessage: (message: any, options: {transfer: Transferable[]}) => void}} */ (/** @type {unknown} */ (self));
  return over(scope, (message, transfer) => scope.postMessage({ link: name, message }, { transfer: transfer ?? [] }), name);
}

/**
 * In a document: the end of the link `name` of `worker` (its workerLink(name)).
 * @param {Worker} worker
 * @param {string} name
 * @returns {Link}
 */
export function workerEnd(worker, name) {
  return over(worker, (message, transfer) => worker.postMessage({ link: name, message }, transfer ?? []), name);
}

/**
 * In a document: joins `a`'s link `nameA` with `b`'s link `nameB`, both ways.
 * @param {Worker} a @param {string} nameA @param {Worker} b @param {string} nameB
 */
export function join(a, nameA, b, nameB) {
  const pass = (/** @type {Worker} */ from, /** @type {string} */ fromName, /** @type {Worker} */ to, /** @type {string} */ toName) => {
    from.addEventListener('message', ({ data }) => {
      if (data?.link !== fromName) return;
      to.postMessage({ link: toName, message: data.message }, handedOver(data.message));
    });
  };
  pass(a, nameA, b, nameB);
  pass(b, nameB, a, nameA);
}

/**
 * The buffer of a message's piece (`{bytes}`), handed over again as it came. Not
 * `instanceof`: the workers may be another document's (the storage document, frame/frame.js),
 * whose messages are of that document's Uint8Array, and a piece missed here is copied, not
 * handed over (the extension's process then held a 128 MiB pli's worth of copies until its
 * next garbage collection).
 * @param {any} message
 */
function handedOver(message) {
  return ArrayBuffer.isView(message?.bytes) ? [message.bytes.buffer] : [];
}

/**
 * @param {EventTarget} target where the link's messages arrive
 * @param {(message: any, transfer?: Transferable[]) => void} send
 * @param {string} name
 * @returns {Link}
 */
function over(target, send, name) {
  /** @type {Link} */
  const link = {
    postMessage: send,
    onmessage: null,
    close: () => target.removeEventListener('message', listener),
  };
  const listener = (/** @type {Event} */ event) => {
    const data = /** @type {MessageEvent<any>} */ (event).data;
    if (data?.link === name) link.onmessage?.({ data: data.message });
  };
  target.addEventListener('message', listener);
  return link;
}

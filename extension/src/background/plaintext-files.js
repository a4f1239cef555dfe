// @ts-check
// The page API's plaintext files. The extension frame decrypts a pli into a file of the
// extension's origin-private file system (OPFS) and hands the page a File over it
// (frame/frame.js, pli/to-file.js): its own storage, or, where Chromium denies it any
// (third-party cookies blocked), that of the storage document made here. That file holds a
// bid in clear, and nothing needs it once the page that asked is gone. So its name carries
// its tab, `page-pli-<time>-<tab>-<uuid>` (given to the frame here, `pli-frame-file`), and
// it is deleted:
//  - when that tab closes;
//  - when the browser starts (no page of the last session is left);
//  - when Firefox's background page starts (Firefox suspends it when idle), if its tab no
//    longer exists (Chromium: see `inServiceWorker`).
// The frame itself also deletes those over an hour old at each `decrypt`, whatever their tab.
// Either way it is the extension's own OPFS, which this background sees (checked in both
// browsers, and in Chromium both ways, by tests/browser/decrypt.test.js).
import { api, ParapheError } from '../common/api.js';

export const PREFIX = 'page-pli-';
const NAME = /^page-pli-(\d+)-(\d+)-[0-9a-f-]{36}$/;

/**
 * Chromium's background is a service worker: there OPFS is touched only for the tabs this
 * worker named a file for, and at the browser's start (a suite of radar tests, which never
 * opened a pli, hung in 2 runs out of 5 while every closed tab made the worker list its
 * OPFS; in none of 6 since). Firefox's background page also sweeps at its own start,
 * since Firefox suspends it when idle and `named` goes with it.
 */
const inServiceWorker = typeof document === 'undefined'; // Firefox's background is a page
/** Tabs given a file name by this background since it started. */
const named = new Set();

/**
 * Chromium with third-party cookies blocked denies storage to the extension frame in a web
 * page; this document, an offscreen document of the extension (first-party: the extension's
 * own OPFS, the one this background sees), lends the frame its OPFS and its workers
 * (frame/frame.js reaches it through `extension.getViews()`, pli/to-file.js starts its
 * workers from it). Created when a frame first needs it, then left: an empty document in the
 * extension's process.
 */
const STORAGE_DOCUMENT = 'pli/storage.html'; // frame/frame.js names it too (it cannot import this module)
/** @type {Promise<void> | null} */
let creating = null;

/** Makes sure the storage document is there (Chromium; rejects where there are no offscreen documents). */
export async function storageDocument() {
  if (!api.offscreen) throw new ParapheError('INTERNAL', 'no offscreen documents here');
  const there = async () => (await api.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'] })).length > 0;
  if (await there()) return;
  creating ??= api.offscreen.createDocument({
    url: STORAGE_DOCUMENT,
    reasons: ['WORKERS'],
    justification: 'Decrypts a pli into a file of the extension\'s storage for a web page whose frame has none.',
  }).catch(async (e) => {
    if (!(await there())) throw e; // else made meanwhile: one offscreen document per extension
  }).finally(() => { creating = null; });
  await creating;
}

/** A new file name for a plaintext of tab `tabId`. @param {number} tabId */
export function newName(tabId) {
  named.add(tabId);
  return `${PREFIX}${Date.now()}-${tabId}-${crypto.randomUUID()}`;
}

/**
 * Deletes the plaintext files whose tab `gone` says is gone.
 * @param {(tabId: number) => Promise<boolean>} gone
 */
async function remove(gone) {
  /** @type {FileSystemDirectoryHandle} */
  let root;
  try {
    root = await navigator.storage.getDirectory();
  } catch {
    return; // no OPFS in this context: nothing of ours there
  }
  const names = [];
  for await (const name of root.keys()) names.push(name);
  for (const name of names) {
    const m = NAME.exec(name);
    if (m && await gone(Number(m[2]))) await root.removeEntry(name).catch(() => {});
  }
}

const tabExists = (/** @type {number} */ tabId) => api.tabs.get(tabId).then(() => true, () => false);

api.tabs.onRemoved.addListener((closed) => {
  if (inServiceWorker && !named.has(closed)) return;
  named.delete(closed);
  remove(async (tabId) => tabId === closed).catch(() => {});
});
api.runtime.onStartup.addListener(() => {
  remove(async () => true).catch(() => {});
});
if (!inServiceWorker) remove(async (tabId) => !(await tabExists(tabId))).catch(() => {});

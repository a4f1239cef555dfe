// @ts-check
// Whether the person is using this frame (isolated world, before the other content
// scripts): the background opens a consent window only for a request made with a user
// activation (background/consent.js, docs/SECURITY.md). True when the frame has the
// browser's transient activation (`navigator.userActivation.isActive`: a click or key press
// in the last few seconds), or when a trusted pointer or key press reached it in the last
// ACTIVATION_GRACE_MS: portals often ask for the signature after a server round trip that
// outlasts the browser's few seconds. Events the page makes (`isTrusted` false) do not count.
// The page cannot reach this world, so it can neither call nor change this function.
(() => {
  'use strict';
  if (typeof globalThis.parapheUserActivation === 'function') return; // registered twice (LiberSign relay)
  const ACTIVATION_GRACE_MS = 60_000;
  let last = -Infinity;
  const seen = (/** @type {Event} */ event) => {
    if (event.isTrusted) last = performance.now();
  };
  for (const type of ['pointerdown', 'mousedown', 'keydown', 'touchend']) {
    window.addEventListener(type, seen, { capture: true, passive: true });
  }
  globalThis.parapheUserActivation = () => navigator.userActivation?.isActive === true
    || performance.now() - last < ACTIVATION_GRACE_MS;
})();

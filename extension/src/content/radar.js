// The radar, page side (docs/RADAR.md): an isolated-world content script that looks, once the
// document is parsed and then at what is added to it, for the marks a signing client leaves
// in the DOM: script URLs and inline script text, applets and Java objects, `.jnlp`,
// `afirma://` and `eudss://` links; and whether the document itself is a server's refusal for
// want of a client certificate (nginx's HTTP 400 page: its status and its title). It never
// writes to the DOM, posts nothing to the page and adds no page-visible listener (a
// MutationObserver of the isolated world is invisible to page scripts): the page cannot learn
// that it looked. Findings go to the background only, and only
// when there is one; a page without any costs one query of the document.
//
// Registered by background/radar.js (scripting.registerContentScripts, document_idle, every
// frame) only while the radar is on. What the page's own JavaScript does with `window`
// (a `typeof window.LiberSign` probe, an `addEventListener('libersignready')`) leaves no mark
// an isolated world can see: those are observed through what they load (webRequest, in the
// background) or not at all.
(() => {
  'use strict';
  if (globalThis.parapheRadar) return; // injected twice (an update re-registered it)
  globalThis.parapheRadar = true;
  const api = globalThis.browser ?? globalThis.chrome;

  const { url: URL_RULES, text: TEXT_RULES, page: PAGE_RULES } = globalThis.parapheRadarRules; // common/radar-rules.js
  const MAX_TEXT = 256 * 1024; // of one inline script
  const SELECTOR = 'script, applet, object, embed, a[href^="afirma:" i], a[href^="eudss:" i], a[href*=".jnlp" i]';

  const seen = new Set(); // "kind detail" already reported
  /** @type {{kind: string, detail: string}[]} */
  let pending = [];
  let scheduled = false;

  /** @param {string} kind @param {string} detail */
  function found(kind, detail) {
    const key = `${kind} ${detail}`;
    if (seen.has(key) || seen.size > 64) return;
    seen.add(key);
    pending.push({ kind, detail: String(detail).slice(0, 200) });
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      const findings = pending;
      pending = [];
      try {
        api.runtime.sendMessage({ kind: 'radar', findings, frameOrigin: self.origin }).catch(() => {});
      } catch { /* the extension was reloaded under the page */ }
    });
  }

  /** @param {string | null} url */
  function byUrl(url) {
    if (!url) return;
    for (const [kind, re] of URL_RULES) if (re.test(url)) found(kind, url);
  }

  /** @param {Element} el one of SELECTOR's */
  function look(el) {
    switch (el.localName) {
      case 'script': {
        const script = /** @type {HTMLScriptElement} */ (el);
        if (script.src) {
          byUrl(script.src);
          return;
        }
        const text = (script.text ?? '').slice(0, MAX_TEXT);
        for (const [kind, re] of TEXT_RULES) {
          const m = re.exec(text);
          if (m) found(kind, m[0]);
        }
        return;
      }
      case 'applet':
        found('java', el.getAttribute('code') || el.getAttribute('archive') || 'applet');
        return;
      case 'object':
      case 'embed': {
        const type = el.getAttribute('type') ?? '';
        const data = el.getAttribute('data') ?? el.getAttribute('src') ?? '';
        if (/java/i.test(type) || /\.(jar|class|jnlp)\b/i.test(data) || /^clsid:8AD9C840/i.test(el.getAttribute('classid') ?? '')) {
          found('java', data || type);
        }
        return;
      }
      case 'a':
        byUrl(el.getAttribute('href'));
        break;
      default:
    }
  }

  /** @param {Node} root */
  function scan(root) {
    if (!isElement(root)) return;
    if (root.matches(SELECTOR)) look(root);
    if (root.firstElementChild) for (const el of root.querySelectorAll(SELECTOR)) look(el);
  }

  /** @param {Node} node @returns {node is Element} */
  function isElement(node) {
    return node.nodeType === 1;
  }

  /**
   * This document as a whole: a server's own page with the status and title of a rule (the
   * status of this document's response, from its navigation timing entry; a browser that does
   * not tell finds nothing).
   */
  function byPage() {
    let status;
    try {
      status = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType('navigation')[0])?.responseStatus;
    } catch { /* no navigation timing here: the scan goes on */ }
    if (typeof status !== 'number') return;
    const title = document.title;
    for (const [kind, code, re] of PAGE_RULES) if (status === code && re.test(title)) found(kind, title);
  }

  byPage();
  scan(document.documentElement);
  // What scripts add later (a wrapper started on `load`, a single-page application's views).
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) scan(n);
  }).observe(document.documentElement, { childList: true, subtree: true });
})();

// NexU answered in the page (docs/RADAR.md, « NexU »). Runs in the MAIN world at
// document_start, only on the origins someone enabled for NexU (background/nexu.js registers
// it for exactly those). A page's requests to NexU's local server (http://127.0.0.1:9795,
// localhost, and the DSS demonstration's 9895 and 9776) never reach the network: XMLHttpRequest
// and fetch calls to it are answered here, and the `<script src=".../nexu.js">` a page inserts
// (jQuery's $.getScript) "loads" by defining NexU's functions: nexu_get_certificates,
// nexu_sign_with_token_infos and callUrl (which esup-signature also uses for its own server).
//
// It has no extension privileges: each call is posted to content/nexu-relay.js (isolated
// world), which asks the background; the background checks the frame's origin again and
// signs only through the consent window.
(() => {
  'use strict';
  const w = /** @type {any} */ (window); // the page's globals NexU's clients read
  if (w.nexuParaphe) return;
  const NEXU = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]):(9795|9895|9776)$/;
  const post = window.postMessage.bind(window);
  const addListener = window.addEventListener.bind(window);
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const target = window.origin === 'null' ? '*' : window.origin;
  const RealURL = URL;
  /**
   * An answer as NexU's server would give it.
   * @typedef {{status: number, type: string, body: string}} NexuAnswer
   * @typedef {((value: unknown) => void) | undefined} Success a page's callback
   * @typedef {((e: {status: number, responseText: string, responseJSON: unknown}) => void) | undefined} Failure a page's callback
   */
  /** @type {Map<string, (answer: NexuAnswer) => void>} */
  const pending = new Map();
  let counter = 0;

  /**
   * The NexU path of `url` (`/nexu-info`, `/rest/sign`…), or null for any other URL.
   * @param {unknown} url what the page gave
   * @returns {string | null}
   */
  function nexuPath(url) {
    try {
      const u = new RealURL(String(url), document.baseURI);
      return NEXU.test(u.origin) ? u.pathname : null;
    } catch {
      return null;
    }
  }

  addListener('message', (event) => {
    if (event.source !== window || event.data?.src !== 'paraphe-nexu-answer') return;
    const p = pending.get(event.data.nonce);
    if (!p) return;
    pending.delete(event.data.nonce);
    p({ status: event.data.status, type: event.data.type, body: event.data.body });
  });

  /**
   * `{status, type, body}` as NexU's server would answer `method path body`.
   * @param {string} method @param {string} path @param {unknown} body the page's
   * @returns {Promise<NexuAnswer>}
   */
  function ask(method, path, body) {
    return new Promise((resolve) => {
      const nonce = `nexu-${Date.now()}-${++counter}`;
      pending.set(nonce, resolve);
      post({ src: 'paraphe-nexu', nonce, method, path, body: typeof body === 'string' ? body : '' }, target);
    });
  }

  // ---- nexu.js: what a page calls once the script "loaded" --------------------------------

  /** @param {string} method @param {string} path @param {unknown} data @param {Success} success @param {Failure} error */
  function jsonCall(method, path, data, success, error) {
    ask(method, path, typeof data === 'string' ? data : stringify(data ?? {})).then((r) => {
      let value = null;
      try {
        value = parse(r.body);
      } catch { /* not JSON */ }
      if (r.status >= 200 && r.status < 300) success?.(value);
      else error?.({ status: r.status, responseText: r.body, responseJSON: value });
    });
  }

  const functions = {
    /** @param {Success} success @param {Failure} error */
    nexu_get_certificates(success, error) {
      jsonCall('POST', '/rest/certificates', {}, success, error);
    },
    /**
     * @param {unknown} tokenId @param {unknown} keyId @param {unknown} dataToSign @param {unknown} digestAlgo
     * @param {Success} success @param {Failure} error
     */
    nexu_sign_with_token_infos(tokenId, keyId, dataToSign, digestAlgo, success, error) {
      jsonCall('POST', '/rest/sign', { tokenId: { id: tokenId }, keyId, toBeSigned: { bytes: dataToSign }, digestAlgorithm: digestAlgo },
        success, error);
    },
    /**
     * NexU's helper, which pages also use for their own server: JSON in, JSON out.
     * @param {string} url @param {string} type the HTTP method @param {unknown} data the body (JSON text)
     * @param {Success} success @param {Failure} error
     */
    callUrl(url, type, data, success, error) {
      const path = nexuPath(url);
      if (path) {
        jsonCall(type, path, data, success, error);
        return;
      }
      window.fetch(url, {
        method: type, body: type === 'GET' ? undefined : /** @type {BodyInit} */ (data), credentials: 'same-origin',
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
      }).then(async (r) => {
        const text = await r.text();
        let value = null;
        try {
          value = text ? parse(text) : null;
        } catch { /* not JSON */ }
        if (r.ok) success?.(value);
        else error?.({ status: r.status, responseText: text, responseJSON: value });
      }, (e) => error?.({ status: 0, responseText: String(e), responseJSON: null }));
    },
  };
  function defineFunctions() {
    for (const [name, fn] of Object.entries(functions)) if (typeof w[name] !== 'function') w[name] = fn;
    w.nexuVersion = '1.23';
  }

  // ---- <script src="http://127.0.0.1:9795/nexu.js"> -------------------------------------------

  const scripts = new WeakSet();
  const srcProp = /** @type {PropertyDescriptor & {set: (v: any) => void}} */ (Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'src'));
  Object.defineProperty(HTMLScriptElement.prototype, 'src', {
    ...srcProp,
    set(value) {
      if (nexuPath(value)) scripts.add(this);
      else srcProp.set.call(this, value);
    },
  });
  const setAttribute = Element.prototype.setAttribute;
  /** @this {Element} @param {string} name @param {string} value */
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLScriptElement && String(name).toLowerCase() === 'src' && nexuPath(value)) {
      scripts.add(this);
      return undefined;
    }
    return setAttribute.call(this, name, value);
  };
  /**
   * A NexU script was inserted: "load" it (define the functions), then fire `load` as a browser would.
   * @param {HTMLScriptElement} node
   */
  function inserted(node) {
    if (!scripts.has(node)) return;
    scripts.delete(node);
    setTimeout(() => {
      defineFunctions();
      node.dispatchEvent(new Event('load'));
    }, 0);
  }
  /** @type {[any, string][]} */
  const inserting = [[Node.prototype, 'appendChild'], [Node.prototype, 'insertBefore'],
    [Element.prototype, 'append'], [Element.prototype, 'prepend']];
  for (const [proto, name] of inserting) {
    const original = proto[name];
    /** @this {Node} @param {...(Node | string)} args */
    proto[name] = function (...args) {
      const out = original.apply(this, args);
      for (const a of args) if (a instanceof HTMLScriptElement) inserted(a);
      return out;
    };
  }

  // ---- XMLHttpRequest and fetch to NexU ---------------------------------------------------------

  const XHR = XMLHttpRequest.prototype;
  /** XHR's methods by name, to keep and to replace. */
  const methods = /** @type {Record<string, Function>} */ (/** @type {unknown} */ (XHR));
  /**
   * A request to NexU answered here instead of sent.
   * @typedef {{
   *   method: string, path: string, url: string, readyState: number, status: number, text: string,
   *   type: string, aborted?: boolean,
   * }} Fake
   */
  /** @type {WeakMap<XMLHttpRequest, Fake>} */
  const fakes = new WeakMap();
  /** @type {Record<string, Function>} */
  const real = {};
  for (const name of ['open', 'send', 'setRequestHeader', 'abort', 'getAllResponseHeaders', 'getResponseHeader', 'overrideMimeType']) {
    real[name] = methods[name];
  }
  const fire = (/** @type {XMLHttpRequest} */ xhr, /** @type {string} */ type) => xhr.dispatchEvent(new Event(type));
  /** @this {XMLHttpRequest} @param {string} method @param {string | URL} url @param {...unknown} rest */
  methods.open = function (method, url, ...rest) {
    const path = nexuPath(url);
    if (!path) {
      fakes.delete(this);
      return real.open.call(this, method, url, ...rest);
    }
    fakes.set(this, { method: String(method).toUpperCase(), path, url: String(url), readyState: 1, status: 0, text: '', type: '' });
    fire(this, 'readystatechange');
    return undefined;
  };
  /** @this {XMLHttpRequest} @param {Document | XMLHttpRequestBodyInit | null} [body] */
  methods.send = function (body) {
    const f = fakes.get(this);
    if (!f) return real.send.call(this, body);
    ask(f.method, f.path, body).then((r) => {
      if (fakes.get(this) !== f || f.aborted) return;
      Object.assign(f, { readyState: 4, status: r.status, text: r.body, type: r.type });
      fire(this, 'readystatechange');
      fire(this, 'load');
      fire(this, 'loadend');
    });
    return undefined;
  };
  /** @this {XMLHttpRequest} */
  methods.abort = function () {
    const f = fakes.get(this);
    if (!f) return real.abort.call(this);
    f.aborted = true;
    fire(this, 'abort');
    return undefined;
  };
  for (const name of ['setRequestHeader', 'overrideMimeType']) {
    /** @this {XMLHttpRequest} @param {...unknown} args */
    methods[name] = function (...args) {
      return fakes.has(this) ? undefined : real[name].apply(this, args);
    };
  }
  /** @this {XMLHttpRequest} */
  methods.getAllResponseHeaders = function () {
    const f = fakes.get(this);
    if (!f) return real.getAllResponseHeaders.call(this);
    return f.readyState === 4 ? `content-type: ${f.type}\r\n` : '';
  };
  /** @this {XMLHttpRequest} @param {string} name */
  methods.getResponseHeader = function (name) {
    const f = fakes.get(this);
    if (!f) return real.getResponseHeader.call(this, name);
    return f.readyState === 4 && String(name).toLowerCase() === 'content-type' ? f.type : null;
  };
  /** @type {Record<string, (f: Fake) => unknown>} */
  const fakeGetters = {
    readyState: (f) => f.readyState,
    status: (f) => f.status,
    statusText: (f) => (f.readyState === 4 ? (f.status === 200 ? 'OK' : 'Error') : ''),
    responseText: (f) => f.text,
    response: (f) => f.text,
    responseURL: (f) => (f.readyState === 4 ? f.url : ''),
  };
  for (const [name, get] of Object.entries(fakeGetters)) {
    const d = /** @type {PropertyDescriptor & {get: () => any}} */ (Object.getOwnPropertyDescriptor(XHR, name));
    Object.defineProperty(XHR, name, {
      ...d,
      get() {
        const f = fakes.get(this);
        return f ? get(f) : d.get.call(this);
      },
    });
  }

  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = input instanceof Request ? input.url : input;
    const path = nexuPath(url);
    if (!path) return realFetch.apply(this, /** @type {any} */ (arguments));
    const method = String(init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const body = typeof init?.body === 'string' ? init.body : '';
    return ask(method, path, body).then((r) => new Response(r.body, { status: r.status, headers: { 'content-type': r.type } }));
  };

  Object.defineProperty(window, 'nexuParaphe', { value: true });
})();

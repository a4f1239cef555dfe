// What the radar recognizes (docs/RADAR.md), shared by the page-side scan (content/radar.js,
// a classic content script: this file is injected before it) and the background's network
// view (background/radar.js imports it for its side effect). A classic script that sets one
// global of its own world: the isolated world's in a page, the background's own.
//
// `url`: rules over a URL (a script's, a link's, a request's); `text`: rules over a page's
// inline script (the page's own code calling the client); `page`: a server's own page that
// says what it wanted, by the HTTP status of the document and its title. Each rule names the
// kind of client.
(() => {
  'use strict';
  globalThis.parapheRadarRules = Object.freeze({
    url: [
      ['libersign', /libersign/i],
      ['nexu', /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\]):(9795|9895|9776)\/|\/nexu(-info|\.js)\b/i],
      ['fortify', /webcrypto-socket|^(https|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\]):31337\//i],
      ['scws', /scwsapi[\w.-]*\.js/i],
      ['atexo', /mon-?assistant-?marches|local-?trust|atexo[\w./-]*(crypto|signature|applet)/i],
      ['afirma', /^afirma:|\/autoscript[\w.-]*\.js|\/miniapplet[\w.-]*\.js/i],
      ['eudss', /^eudss:/i],
      ['java', /\.jnlp(\?|#|$)|\/deployjava[\w.-]*\.js/i],
      ['webeid', /\/web-eid[\w.-]*\.js|\/hwcrypto[\w.-]*\.js/i],
    ],
    text: [
      ['libersign', /\bLiberSign\s*\.\s*(getCertificates|sign|setUpdateUrl|getVersion)\b|libersignready|\.libersign\s*\(/],
      ['nexu', /\bnexu_(get_certificates|sign_with_token_infos|sign)\b|(127\.0\.0\.1|localhost):9795/],
      ['fortify', /\bWebcryptoSocket\b|(127\.0\.0\.1|localhost):31337/],
      ['scws', /\bSCWS\s*\.\s*\w+\s*\(|scwsapi/i],
      ['afirma', /\bAutoScript\s*\.\s*(sign|cosign|counterSign|selectCertificate)\w*\s*\(|afirma:\/\//],
      ['eudss', /eudss:\/\//],
      ['java', /\bdeployJava\s*\.\s*(runApplet|launchWebStartApplication)\b/],
      ['webeid', /\bwebeid\s*\.\s*(authenticate|getSigningCertificate|sign)\s*\(|\bhwcrypto\s*\.\s*(getCertificate|sign)\s*\(/],
    ],
    page: [
      // nginx (and its forks: Angie, OpenResty, Tengine) with `ssl_verify_client`: the
      // handshake went through, then HTTP 400 with its built-in page, whose title says why
      // (ngx_http_special_response.c; the h1 is only « 400 Bad Request »): no certificate
      // (`on`, or `optional` and a `return 496`), or one it refused (`return 495` too).
      ['tls', 400, /^400 (No required SSL certificate was sent|The SSL certificate error)$/],
    ],
  });
})();

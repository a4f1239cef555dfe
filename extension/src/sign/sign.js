// @ts-check
// « Signer des fichiers »: the extension's own page for signing files from disk, several at
// once, in the formats the arrêté du 22 mars 2019 accepts for marchés publics: PAdES (the
// signature inside the PDF, offered for PDFs), XAdES detached (the « jeton » `.xml` next to
// the file) or CAdES detached (`.p7s`).
//
// The files never leave this page: it reads them with the WASM files module (files-wasm/,
// common/files.js, as the page API's extension frame does): each PDF to sign in PAdES is checked and hashed by a
// PdfInput, kept until its layout is asked for; the other files are hashed. Only digests and
// names go to the background, as one or two `signHash` requests (`pades`; `xades` or `cades`)
// on the runtime port "sign-files" (background.js signFilesMessage), signed as one batch by
// the background's signing path (sign.js signRequests, batch.js): one consent window listing
// every file, its origin the extension's own local name, one PIN. For each PDF the
// background asks for the layout for the chosen certificate (`{ask: {layout}}`), answered
// here; each signature comes back as it is made (`{progress}`) and is offered at once as a
// download: the signed PDF (the file followed by the update: Blob parts, nothing copied),
// the jeton `<name>.xml` or `<name>.p7s`.
//
// « Signature visible » (PAdES): the request says `visible`, and each PDF is laid out with a
// framed box in the bottom-right corner of its last page (formats::pdf appearance).
//
// Before signing, the page shows the checks of each signing certificate on the connected
// tokens (sign/checks.js): dates, signing key usage, qualified or RGS level.
//
// After a batch that signed something, « Tout télécharger (.zip) » offers one zip of every
// output (sign/zip.js: members stored as they are, the files module's formats::zip), built when asked.
//
// For tests and the person's eyes alike, the end state is on <body>: `data-result` (JSON:
// [{name, format, url}], the outputs in order) or `data-error` (the code), and
// `data-certificates` (JSON: [{fingerprint, holder, checks}]) once the checks are shown; once
// the zip is made, `data-zip` (JSON: {name, url, size, members}) or `data-zip-error`.
import { $, api, localize, t } from '../common/api.js';
import { fromBase64 } from '../common/base64.js';
import { checkPdf, digest, layoutPdf } from '../common/files.js';
import { startFilesModule } from '../common/files-module.js';
import { certificateChecks, worst } from './checks.js';
import { zipOf } from './zip.js';

/** The files module (files-wasm/): hashing and PDFs (common/files.js), the zip (zip.js). */
const ready = startFilesModule();
const HASH_ALGORITHM = 'sha256';

localize();
document.title = t('signFilesPageTitle');

/** The files chosen or dropped, in order. @type {File[]} */
let selected = [];
/** Object URLs of the last outputs, revoked when a new batch starts. @type {string[]} */
let urls = [];
/** The last batch's outputs by index (what the zip holds, in order). @type {({name: string, blob: Blob} | undefined)[]} */
let made = [];
/** The zip of the last batch's outputs, once made. @type {{name: string, url: string, size: number, members: string[]} | null} */
let zipped = null;

const isPdf = (/** @type {File} */ f) => f.type === 'application/pdf' || /\.pdf$/i.test(f.name);
const otherFormat = () => /** @type {'xades' | 'cades'} */ (
  /** @type {HTMLInputElement} */ (document.querySelector('input[name=format]:checked')).value);
/** The format `file` is signed in with the choices of the form. @param {File} file */
const formatOf = (file) => ($('pades').checked && isPdf(file) ? 'pades' : otherFormat());

$('files').addEventListener('change', () => setFiles([...$('files').files]));
$('pades').addEventListener('change', () => {
  $('visible').disabled = !$('pades').checked;
  showList();
});
for (const r of document.querySelectorAll('input[name=format]')) r.addEventListener('change', showList);
const drop = $('drop');
drop.addEventListener('dragover', (/** @type {DragEvent} */ ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (/** @type {DragEvent} */ ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  setFiles([...selected, ...(ev.dataTransfer?.files ?? [])]);
});
$('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (selected.length > 0) signFiles(selected).catch(() => {});
});
$('zip').addEventListener('click', () => {
  downloadZip().catch(() => {});
});
showCertificates().catch(() => {});

/** @param {File[]} files */
function setFiles(files) {
  selected = files;
  showList();
}

function showList() {
  const list = $('list');
  list.replaceChildren();
  for (const file of selected) {
    const li = document.createElement('li');
    const name = document.createElement('strong');
    name.textContent = file.name;
    const format = document.createElement('span');
    format.className = 'format';
    format.textContent = ` — ${t(`signFilesFormat_${formatOf(file)}`)}`;
    li.append(name, format);
    list.append(li);
  }
  $('sign').disabled = selected.length === 0;
}

/** @param {string} text @param {boolean} [isError] */
function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : 'notice';
  s.hidden = false;
}

/** One message to the background; resolves with its `result`. @param {object} message */
async function background(message) {
  const reply = await api.runtime.sendMessage(message);
  if (!reply) throw { code: 'INTERNAL', message: 'no answer from the extension' };
  if (reply.error) throw reply.error;
  return reply.result;
}

/** The signing certificates of the connected tokens and their checks (sign/checks.js). */
async function showCertificates() {
  const box = $('certificates');
  const note = $('certificates-status');
  let certificates;
  try {
    const s = await background({ kind: 'status' });
    if (!s.host.available) throw s.host.error;
    certificates = s.certificates.filter((/** @type {any} */ c) => c.hasPrivateKey && c.usages.includes('signing'));
  } catch (e) {
    note.textContent = t('signFilesCertificatesFailed', errorText(e).text);
    note.className = 'error';
    return;
  }
  box.replaceChildren();
  const shown = [];
  for (const c of certificates) {
    const checks = certificateChecks(c);
    shown.push({ fingerprint: c.fingerprint, holder: c.holder, checks });
    const li = document.createElement('li');
    li.className = worst(checks);
    const holder = document.createElement('strong');
    holder.textContent = c.holder;
    const issuer = document.createElement('span');
    issuer.textContent = ` — ${t('certIssuer', c.issuer)}`;
    li.append(holder, issuer);
    for (const check of checks) {
      const line = document.createElement('span');
      line.className = `check ${check.level}`;
      line.dataset.check = check.id;
      line.textContent = checkText(c, check);
      li.append(line);
    }
    box.append(li);
  }
  if (certificates.length === 0) {
    note.textContent = t('signFilesNoCertificate');
    note.className = 'warning';
  } else if (shown.every((s) => worst(s.checks) !== 'ok')) {
    note.textContent = t('signFilesCertificatesWarning');
    note.className = 'warning';
  } else {
    note.textContent = t('signFilesCertificatesIntro');
    note.className = 'notice';
  }
  document.body.dataset.certificates = JSON.stringify(shown);
}

/** @param {any} c @param {import('./checks.js').Check} check */
function checkText(c, check) {
  const date = (/** @type {string} */ d) => new Date(d).toLocaleDateString(api.i18n.getUILanguage());
  switch (check.id) {
    case 'dates':
      if (check.detail === 'expired') return t('signFilesCheckExpired', date(c.notAfter));
      if (check.detail === 'notYetValid') return t('signFilesCheckNotYetValid', date(c.notBefore));
      return t('signFilesCheckDates', date(c.notBefore), date(c.notAfter));
    case 'usage':
      return t(check.level === 'ok' ? 'signFilesCheckUsage' : 'signFilesCheckNoUsage');
    default:
      if (check.detail === 'qualified') return t('signFilesCheckQualified', c.rgsLevel ? t('certRgs', c.rgsLevel) : '');
      if (check.detail === 'rgs2' || check.detail === 'rgs3') return t('signFilesCheckRgs', c.rgsLevel);
      if (check.detail === 'rgs1') return t('signFilesCheckRgsOne');
      return t('signFilesCheckLevelUnknown');
  }
}

/** The text of an error (`{code, message}`, or the core's JSON text) for the person. @param {any} e */
function errorText(e) {
  let parsed = { code: e?.code ?? 'INTERNAL', message: typeof e === 'string' ? e : e?.message ?? String(e) };
  try {
    if (typeof e === 'string') parsed = JSON.parse(e); // thrown by the WASM core
  } catch { /* not JSON */ }
  const localized = api.i18n.getMessage(`error_${parsed.code}`);
  // A time-stamp authority's failure says which (unreachable, refused, not a token) after the text.
  const detail = localized && parsed.code === 'TIMESTAMP_FAILED' ? ` (${parsed.message})` : '';
  return { code: String(parsed.code), text: localized ? `${localized}${detail}` : String(parsed.message) };
}

/** The name a signature is saved under. @param {string} name @param {string} format */
function outputName(name, format) {
  if (format === 'pades') return t('signFilesSignedPdfName', name.replace(/\.pdf$/i, ''));
  return `${name}.${format === 'xades' ? 'xml' : 'p7s'}`;
}

/** @type {Record<string, string>} */
const TYPES = { pades: 'application/pdf', xades: 'application/xml', cades: 'application/pkcs7-signature' };

/**
 * Signs `files`: reads them (PDFs checked for PAdES), then one batch in the background.
 * @param {File[]} files
 */
async function signFiles(files) {
  for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input, button'))) el.disabled = true;
  delete document.body.dataset.result;
  delete document.body.dataset.error;
  delete document.body.dataset.zip;
  delete document.body.dataset.zipError;
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  made = [];
  zipped = null;
  $('zip-row').hidden = true;
  $('outputs').replaceChildren();
  const bar = $('progress');
  bar.hidden = true;
  // Two parts at most: the PDFs in PAdES, the others in XAdES or CAdES; indexes of the batch
  // count the first part's files, then the second's.
  const parts = /** @type {{format: string, files: File[], pdfs: import('../common/files.js').CheckedPdf[]}[]} */ (
    ['pades', otherFormat()].map((format) => ({ format, files: files.filter((f) => formatOf(f) === format), pdfs: /** @type {import('../common/files.js').CheckedPdf[]} */ ([]) }))
      .filter((p) => p.files.length > 0));
  const order = parts.flatMap((p) => p.files.map((file) => ({ file, format: p.format })));
  /** @type {({name: string, format: string, url: string} | undefined)[]} */
  const outputs = new Array(order.length);
  const output = (/** @type {any} */ s) => {
    const index = Number(s?.index);
    const at = order[index];
    if (!at || outputs[index]) return;
    const bytes = fromBase64(String(s.signature));
    const blob = at.format === 'pades'
      ? new Blob([at.file, bytes], { type: TYPES.pades })
      : new Blob([bytes], { type: TYPES[at.format] });
    const url = URL.createObjectURL(blob);
    urls.push(url);
    const name = outputName(at.file.name, at.format);
    outputs[index] = { name, format: at.format, url };
    made[index] = { name, blob };
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.textContent = name;
    a.dataset.index = String(index);
    const format = document.createElement('span');
    format.className = 'format';
    format.textContent = ` — ${t(`signFilesFormat_${at.format}`)}`;
    li.append(a, format);
    $('outputs').append(li);
    a.click(); // the download, as soon as it is signed
  };
  try {
    await ready;
    const requests = [];
    let read = 0;
    for (const part of parts) {
      const hashes = [];
      for (const file of part.files) {
        status(t('signFilesReading', file.name, read + 1, order.length));
        try {
          if (part.format === 'pades') {
            const { hex, entry } = await checkPdf(file, HASH_ALGORITHM);
            part.pdfs.push(entry);
            hashes.push({ digest: hex, hashAlgorithm: HASH_ALGORITHM, name: file.name, size: file.size });
          } else {
            hashes.push({ digest: await digest(file, HASH_ALGORITHM), hashAlgorithm: HASH_ALGORITHM, name: file.name, size: file.size });
          }
        } catch (e) {
          const { code, text } = errorText(e);
          throw { code, message: `${file.name}: ${text}`, shown: true };
        }
        read++;
      }
      const visible = part.format === 'pades' && $('visible').checked ? { visible: true } : {};
      requests.push(JSON.stringify({ type: 'signHash', format: part.format, hashes, ...visible }));
    }
    status(t('signFilesWaiting', order.length));
    const result = await batch(requests, {
      layout: async (q) => {
        const entry = parts[q?.part]?.pdfs[q?.index];
        if (!entry || parts[q.part].format !== 'pades') throw { code: 'INVALID_REQUEST', message: 'no such PDF' };
        return layoutPdf(entry, String(q.certificate), Number(q.now), { visible: q.visible === true, timestamp: q.timestamp === true });
      },
      progress: (p) => {
        bar.hidden = false;
        bar.value = p.done / p.total;
        status(t('signFilesProgress', p.done, p.total));
        output(p.signature);
      },
    });
    result.signatures.forEach((s, index) => output({ ...s, index }));
    bar.value = 1;
    status(t('signFilesDone', order.length));
    document.body.dataset.result = JSON.stringify(outputs);
  } catch (e) {
    const { code, text } = e?.shown ? { code: e.code, text: e.message } : errorText(e);
    // What was signed before the batch stopped (batch.js: `signed`, `signatures`) is kept.
    const signed = Array.isArray(e?.signed) ? e.signed : [];
    (Array.isArray(e?.signatures) ? e.signatures : []).forEach((/** @type {object} */ s, /** @type {number} */ k) => output({ ...s, index: signed[k] }));
    const done = outputs.filter(Boolean).length;
    let message;
    if (code === 'USER_CANCELLED') message = done > 0 ? t('signFilesCancelledAfter', done, order.length) : t('signFilesCancelled');
    else message = done > 0 ? t('signFilesFailedAfter', text, done, order.length) : t('signFilesFailed', text);
    bar.hidden = done === 0;
    status(message, true);
    document.body.dataset.error = code;
    document.body.dataset.signed = String(done);
  } finally {
    for (const part of parts) for (const { pdf } of part.pdfs) pdf.free();
    for (const el of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll('input, button'))) el.disabled = false;
    $('sign').disabled = selected.length === 0;
    $('visible').disabled = !$('pades').checked;
    $('zip-row').hidden = !made.some(Boolean);
  }
}

/** « Tout télécharger (.zip) »: the zip of the last batch's outputs, made once, downloaded. */
async function downloadZip() {
  const button = /** @type {HTMLButtonElement} */ ($('zip'));
  button.disabled = true;
  delete document.body.dataset.zipError;
  try {
    if (!zipped) {
      const batch = made;
      await ready;
      const { blob, names } = await zipOf(batch.filter((m) => m !== undefined));
      if (made !== batch) return; // another batch started meanwhile: this zip is not its
      const url = URL.createObjectURL(blob);
      urls.push(url);
      zipped = { name: t('signFilesZipName'), url, size: blob.size, members: names };
    }
    const a = document.createElement('a');
    a.href = zipped.url;
    a.download = zipped.name;
    a.click();
    document.body.dataset.zip = JSON.stringify(zipped);
  } catch (e) {
    let failure = e;
    try {
      if (typeof e === 'string') failure = JSON.parse(e); // thrown by the WASM core
    } catch { /* not JSON */ }
    status(failure?.tooLarge ? t('signFilesZipTooLarge') : t('signFilesZipFailed', errorText(e).text), true);
    document.body.dataset.zipError = failure?.tooLarge ? 'tooLarge' : String(failure?.code ?? 'INTERNAL');
  } finally {
    button.disabled = false;
  }
}

/**
 * The batch on the runtime port "sign-files" (background.js), through the content scripts'
 * port client (content/shared.js portRequest, loaded by sign.html): `{requests}`, then
 * progress reports, layout questions (answered with `layout`), and the result or the error.
 * @param {string[]} requests
 * @param {{layout: (q: any) => Promise<string>, progress: (p: any) => void}} handlers
 * @returns {Promise<{certificate: object, signatures: any[]}>}
 */
function batch(requests, { layout, progress }) {
  return globalThis.parapheContent.portRequest('sign-files', { requests }, {
    onProgress: progress,
    onAsk: (ask) => layout(ask.layout).catch((e) => {
      const { code, text } = errorText(e);
      throw { code, message: text };
    }),
  });
}

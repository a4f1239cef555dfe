// « Vérifier une signature »: a signed PDF (every PAdES signature), a detached .p7s or a
// detached XAdES « jeton » (.xml) with the file it signs. A WASM module of its own verifies (verify-wasm/, pkg/paraphe_verify, over
// paraphe_formats::verify): integrity, signer, chain up to the CA certificates the person
// adds, RGS level, qualified status, signing time. Only this page loads it: the core the
// background loads (pkg/paraphe_wasm) has no verification code. Nothing leaves the browser;
// no host, no card. The page's texts are here (fr, en) so that this page adds no strings to
// the shared _locales.
import init, { verify_cades, verify_pdf, verify_xades } from '../pkg/paraphe_verify.js';
import { $, api } from '../common/api.js';
import { base64 } from '../common/base64.js';

/**
 * The verifier's report (paraphe_formats::verify `Report`, serde camelCase), as far as this page reads it.
 * @typedef {{code: string, detail: string}} Problem
 * @typedef {{
 *   name: string, organization: string | null, email: string | null, issuer: string,
 *   notBefore: string, notAfter: string, rgsLevel: string | null, qualified: boolean, qscd: boolean,
 *   verifiedWith: string[], provider: string | null,
 * }} SignerFacts
 * @typedef {{
 *   status: 'valid' | 'invalid' | 'indeterminate', intact: boolean, problems: Problem[],
 *   signer: SignerFacts | null, chain: {subject: string, fingerprint: string}[], trusted: boolean,
 *   signingTime: string | null, digestAlgorithm: string, timestamped: boolean,
 *   pdf: {coversWholeFile: boolean, declaredTime: string | null} | null,
 * }} SignatureReport
 * @typedef {{format: string, signatures: SignatureReport[]}} Report
 */

const ready = init({ module_or_path: api.runtime.getURL('pkg/paraphe_verify_bg.wasm') });

const TEXTS = {
  fr: {
    title: 'Vérifier une signature',
    intro: 'Choisissez un PDF signé, ou une signature .p7s ou un jeton XAdES .xml avec le fichier signé. Tout se passe dans le navigateur : rien n’est envoyé.',
    signedLabel: 'PDF signé, signature (.p7s) ou jeton de signature (.xml)',
    contentLabel: 'Fichier signé (pour une signature .p7s ou un jeton .xml)',
    casLabel: 'Certificats d’autorité à approuver (facultatif : .cer, .crt, .pem)',
    verifyButton: 'Vérifier',
    limits: 'La révocation des certificats (listes de révocation, OCSP) n’est pas vérifiée : la chaîne est vérifiée jusqu’aux autorités que vous ajoutez.',
    working: 'Vérification…',
    chooseSigned: 'Choisissez d’abord un PDF signé, une signature .p7s ou un jeton .xml.',
    chooseContent: 'Une signature .p7s ou un jeton .xml est détaché du fichier : choisissez aussi le fichier signé.',
    count: (/** @type {number} */ n) => (n === 1 ? '1 signature' : `${n} signatures`),
    signature: (/** @type {number} */ i) => `Signature ${i}`,
    valid: 'Signature valide',
    invalid: 'Signature invalide : le document ou la signature a été modifié, ou la signature ne peut être vérifiée',
    indeterminate: 'Document intact, mais la signature n’a pas pu être entièrement validée',
    signer: 'Signataire',
    issuer: 'Émis par',
    provider: 'Prestataire',
    validity: 'Validité du certificat',
    rgs: 'Niveau RGS',
    qualified: 'Certificat qualifié (eIDAS)',
    yes: 'oui',
    no: 'non',
    qscd: 'oui, clé sur un dispositif qualifié (QSCD)',
    time: 'Date de signature',
    timeDeclared: '(déclarée dans le PDF)',
    chain: 'Chaîne de certification',
    trusted: 'jusqu’à une autorité approuvée',
    untrusted: 'aucune autorité approuvée atteinte',
    digest: 'Empreinte',
    timestamp: 'Horodatage',
    coverage: 'Portée',
    wholeFile: 'tout le fichier',
    partial: 'une version antérieure du fichier (le fichier a été complété après cette signature)',
    problems: 'Constats',
    codes: {
      'digest-mismatch': 'le contenu signé a été modifié',
      'signature-invalid': 'la signature ne correspond pas aux données signées',
      'signer-certificate-missing': 'le certificat du signataire est absent de la signature',
      'signing-certificate-mismatch': 'la référence signée au certificat désigne un autre certificat',
      'chain-untrusted': 'aucune autorité de certification approuvée n’a été atteinte',
      'certificate-expired': 'le certificat avait expiré',
      'certificate-not-yet-valid': 'le certificat n’était pas encore valide',
      'byte-range-invalid': 'les octets signés du PDF sont mal délimités',
      unsupported: 'algorithme non pris en charge',
      malformed: 'signature mal formée',
      'signed-properties-modified': 'les propriétés signées (date de signature, certificat) ont été modifiées',
      'reference-modified': 'une partie signée du jeton a été modifiée',
      'reference-missing': 'une partie signée du jeton est introuvable',
      'content-missing': 'le fichier signé n’est pas celui que nomme le jeton',
      'weak-algorithm': 'SHA-1 refusé : cet algorithme ne protège plus une signature',
      'file-name-differs': 'le jeton nomme le fichier signé autrement (fichier renommé ?)',
    },
  },
  en: {
    title: 'Verify a signature',
    intro: 'Choose a signed PDF, or a .p7s signature or an XAdES .xml token with the signed file. Everything happens in the browser: nothing is sent.',
    signedLabel: 'Signed PDF, signature (.p7s) or signature token (.xml)',
    contentLabel: 'Signed file (for a .p7s signature or an .xml token)',
    casLabel: 'Certification authority certificates to trust (optional: .cer, .crt, .pem)',
    verifyButton: 'Verify',
    limits: 'Revocation (CRLs, OCSP) is not checked: the chain is checked up to the authorities you add.',
    working: 'Verifying…',
    chooseSigned: 'First choose a signed PDF, a .p7s signature or an .xml token.',
    chooseContent: 'A .p7s signature or an .xml token is detached from the file: also choose the signed file.',
    count: (/** @type {number} */ n) => (n === 1 ? '1 signature' : `${n} signatures`),
    signature: (/** @type {number} */ i) => `Signature ${i}`,
    valid: 'Valid signature',
    invalid: 'Invalid signature: the document or the signature was modified, or the signature cannot be checked',
    indeterminate: 'Document intact, but the signature could not be fully validated',
    signer: 'Signer',
    issuer: 'Issued by',
    provider: 'Provider',
    validity: 'Certificate validity',
    rgs: 'RGS level',
    qualified: 'Qualified certificate (eIDAS)',
    yes: 'yes',
    no: 'no',
    qscd: 'yes, key on a qualified device (QSCD)',
    time: 'Signing time',
    timeDeclared: '(declared in the PDF)',
    chain: 'Certification chain',
    trusted: 'up to a trusted authority',
    untrusted: 'no trusted authority reached',
    digest: 'Digest',
    timestamp: 'Timestamp',
    coverage: 'Covers',
    wholeFile: 'the whole file',
    partial: 'an earlier version of the file (the file was extended after this signature)',
    problems: 'Findings',
    codes: {
      'digest-mismatch': 'the signed content was modified',
      'signature-invalid': 'the signature does not match the signed data',
      'signer-certificate-missing': 'the signer’s certificate is not in the signature',
      'signing-certificate-mismatch': 'the signed certificate reference names another certificate',
      'chain-untrusted': 'no trusted certification authority was reached',
      'certificate-expired': 'the certificate had expired',
      'certificate-not-yet-valid': 'the certificate was not valid yet',
      'byte-range-invalid': 'the PDF’s signed bytes are badly delimited',
      unsupported: 'unsupported algorithm',
      malformed: 'malformed signature',
      'signed-properties-modified': 'the signed properties (signing time, certificate) were modified',
      'reference-modified': 'a signed part of the token was modified',
      'reference-missing': 'a signed part of the token is missing',
      'content-missing': 'the signed file is not the one the token names',
      'weak-algorithm': 'SHA-1 refused: it no longer protects a signature',
      'file-name-differs': 'the token names the signed file differently (renamed?)',
    },
  },
};
const lang = (api.i18n.getUILanguage() || 'fr').startsWith('en') ? 'en' : 'fr';
/** @typedef {typeof TEXTS.fr} Texts */
const T = /** @type {Texts} */ (TEXTS[lang]);

/** @param {string} id @returns {FileList} the files chosen in the input `id` */
const filesOf = (id) => /** @type {HTMLInputElement} */ ($(id)).files;

/**
 * An element with its properties and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Partial<HTMLElementTagNameMap[K]>} [props]
 * @param {...(Node | string)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

/** @param {string} text @param {string} [kind] */
function status(text, kind = 'notice') {
  const s = $('status');
  s.textContent = text;
  s.className = kind;
  s.hidden = !text;
}

/** @param {Blob} file */
async function bytesOf(file) {
  return new Uint8Array(await file.arrayBuffer());
}

/** @param {string | null} iso */
const date = (iso) => (iso ? new Date(iso).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'UTC', timeZoneName: 'short' }) : '—');

/** @param {HTMLTableElement} table @param {string} label @param {Node | string} value */
function row(table, label, value) {
  table.append(el('tr', {}, el('th', { textContent: label }), el('td', {}, value)));
}

/** @param {SignatureReport} sig @param {number} index */
function renderSignature(sig, index) {
  const box = el('section', { className: 'signature' });
  box.dataset.status = sig.status;
  box.dataset.intact = String(sig.intact);
  box.dataset.trusted = String(sig.trusted);
  box.dataset.rgs = sig.signer?.rgsLevel ?? '';
  box.dataset.qualified = String(Boolean(sig.signer?.qualified));
  box.dataset.problems = sig.problems.map((p) => p.code).join(' ');
  box.append(el('h2', { textContent: T.signature(index + 1) }));
  box.append(el('p', { className: 'verdict', textContent: T[sig.status] }));
  const table = el('table');
  const s = sig.signer;
  if (s) {
    const who = el('span', { className: 'signer-name', textContent: s.name });
    const extra = [s.organization, s.email].filter(Boolean).join(', ');
    row(table, T.signer, extra ? el('span', {}, who, ` — ${extra}`) : who);
    row(table, T.issuer, s.issuer);
    if (s.provider) row(table, T.provider, s.provider);
    row(table, T.validity, `${date(s.notBefore)} → ${date(s.notAfter)}`);
    const badges = el('span', { className: 'rgs' });
    badges.append(s.rgsLevel ? `RGS ${s.rgsLevel} ` : '—');
    for (const b of s.verifiedWith) badges.append(el('span', { className: 'badge', textContent: b }));
    row(table, T.rgs, badges);
    row(table, T.qualified, s.qualified ? (s.qscd ? T.qscd : T.yes) : T.no);
  }
  const declared = !sig.signingTime ? '' : (sig.pdf && sig.pdf.declaredTime === sig.signingTime ? ` ${T.timeDeclared}` : '');
  row(table, T.time, `${date(sig.signingTime)}${declared}`);
  if (sig.chain.length) {
    const list = el('ol', { className: 'chain' });
    for (const c of sig.chain) list.append(el('li', { textContent: c.subject }));
    row(table, T.chain, el('div', {}, list, el('span', { textContent: sig.trusted ? T.trusted : T.untrusted })));
  }
  if (sig.digestAlgorithm) row(table, T.digest, sig.digestAlgorithm);
  row(table, T.timestamp, sig.timestamped ? T.yes : T.no);
  if (sig.pdf) row(table, T.coverage, sig.pdf.coversWholeFile ? T.wholeFile : T.partial);
  box.append(table);
  if (sig.problems.length) {
    box.append(el('h3', { textContent: T.problems }));
    const ul = el('ul', { className: 'problems' });
    for (const p of sig.problems) {
      const li = el('li', { textContent: T.codes[/** @type {keyof Texts['codes']} */ (p.code)] ?? p.code, title: p.detail });
      li.dataset.code = p.code;
      ul.append(li);
    }
    box.append(ul);
  }
  return box;
}

/** @param {SubmitEvent} event */
async function verify(event) {
  event.preventDefault();
  const results = $('results');
  results.replaceChildren();
  delete document.body.dataset.report;
  delete document.body.dataset.error;
  const signed = filesOf('signed')[0];
  if (!signed) return status(T.chooseSigned, 'error');
  status(T.working);
  try {
    await ready;
    const anchors = [];
    for (const f of filesOf('cas')) anchors.push(base64(await bytesOf(f)));
    const bytes = await bytesOf(signed);
    const now = Date.now() / 1000;
    let json;
    const head = new TextDecoder().decode(bytes.subarray(0, 5));
    if (head === '%PDF-') {
      json = verify_pdf(bytes, JSON.stringify(anchors), now);
    } else {
      const content = filesOf('content')[0];
      if (!content) throw new Error(T.chooseContent);
      // A jeton is XML text (after a byte order mark and white space); a .p7s never starts with '<'.
      const xml = /\.xml$/i.test(signed.name) || /^(\uFEFF)?\s*</.test(new TextDecoder().decode(bytes.subarray(0, 64)));
      json = xml
        ? verify_xades(bytes, content.name, await bytesOf(content), JSON.stringify(anchors), now)
        : verify_cades(bytes, await bytesOf(content), JSON.stringify(anchors), now);
    }
    /** @type {Report} */
    const report = JSON.parse(json);
    report.signatures.forEach((sig, i) => results.append(renderSignature(sig, i)));
    status(T.count(report.signatures.length));
    document.body.dataset.report = json;
  } catch (e) {
    let message = String(e?.message ?? e);
    try { message = JSON.parse(message).message ?? message; } catch { /* plain text */ }
    status(message, 'error');
    document.body.dataset.error = message;
  }
}

for (const e of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-t]'))) e.textContent = /** @type {string} */ (T[/** @type {keyof Texts} */ (e.dataset.t)]);
document.title = `Paraphe — ${T.title}`;
document.documentElement.lang = lang;
$('form').addEventListener('submit', verify);

// @ts-check
// The checks the arrêté du 22 mars 2019 (signature électronique des contrats de la commande
// publique) asks of a signing certificate, from what the WASM core decoded of it
// (wasm/src/certs.rs `Choice`: dates, usages, RGS level, QCStatements). No import: tests
// load this module in Node too (tests/browser/sign-files.test.js).
//
// Each check is `{id, level}`: `ok`, `warning` (the platform may refuse the signature) or
// `error` (the certificate cannot sign: the consent window does not offer it).
//   dates       notBefore ≤ now ≤ notAfter (expired, not yet valid: error)
//   usage       nonRepudiation, the signing key usage (absent: error)
//   level       qualified (eIDAS QCStatements, QcCompliance) or RGS ** / *** (ok); RGS * or
//               neither: warning (the arrêté asks for at least RGS ** or qualified)

/**
 * @typedef {{id: 'dates' | 'usage' | 'level', level: 'ok' | 'warning' | 'error', detail?: string}} Check
 */

/**
 * @param {{expired?: boolean, notYetValid?: boolean, usages?: string[], qualified?: boolean, rgsLevel?: string | null}} choice
 * @returns {Check[]}
 */
export function certificateChecks(choice) {
  /** @type {Check[]} */
  const checks = [];
  if (choice.expired) checks.push({ id: 'dates', level: 'error', detail: 'expired' });
  else if (choice.notYetValid) checks.push({ id: 'dates', level: 'error', detail: 'notYetValid' });
  else checks.push({ id: 'dates', level: 'ok' });
  checks.push({ id: 'usage', level: (choice.usages ?? []).includes('signing') ? 'ok' : 'error' });
  const rgs = choice.rgsLevel ?? null;
  if (choice.qualified) checks.push({ id: 'level', level: 'ok', detail: 'qualified' });
  else if (rgs === '**' || rgs === '***') checks.push({ id: 'level', level: 'ok', detail: `rgs${rgs.length}` });
  else if (rgs === '*') checks.push({ id: 'level', level: 'warning', detail: 'rgs1' });
  else checks.push({ id: 'level', level: 'warning', detail: 'unknown' });
  return checks;
}

/** The worst level of `checks`. @param {Check[]} checks @returns {'ok' | 'warning' | 'error'} */
export function worst(checks) {
  if (checks.some((c) => c.level === 'error')) return 'error';
  return checks.some((c) => c.level === 'warning') ? 'warning' : 'ok';
}

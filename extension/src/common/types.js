// @ts-check
// Shapes shared by several of the extension's modules, for the type checks only (JSDoc
// typedefs, read by `tsc` as `import('../common/types.js').Name`): nothing runs here.

/**
 * An error as it crosses a message boundary (ParapheError#toJSON, the host's error object).
 * @typedef {{code: string, message: string} & Record<string, unknown>} ErrorJson
 */

/**
 * The middleware the host's catalogue matches to a card (docs/PROTOCOL.md, « Events »).
 * @typedef {{
 *   id: string, name: string, install: string, module: string | null, installed: boolean,
 *   fallback: boolean, loaded?: boolean,
 * }} Middleware
 */

/**
 * A reader as background/cards.js keeps it (`present`: a card is in the reader).
 * @typedef {{
 *   reader: string, atr: string | null, card: string | null, middleware: Middleware | null,
 *   present: boolean, since: number,
 * }} Reader
 */

/**
 * What background/cards.js tells the pages that show cards.
 * @typedef {{pcsc: {available: boolean | null, message: string | null}, readers: Reader[]}} CardsState
 */

/**
 * A host event's data (docs/PROTOCOL.md, « Events »): each event has some of these fields.
 * @typedef {{
 *   reader?: string, atr?: string | null, card?: string | null, middleware?: Middleware | null,
 *   message?: string, code?: string,
 * } & Record<string, unknown>} EventData
 */

/**
 * A certificate as the consent window shows it (certs.rs `Choice`).
 * @typedef {object} Choice
 * @property {string} fingerprint
 * @property {string} token
 * @property {string} tokenLabel
 * @property {string} ckaId CKA_ID, hex: with `token`, where the certificate is (login's hint)
 * @property {string} label
 * @property {string} holder
 * @property {string | null} organization
 * @property {string} issuer
 * @property {string} notBefore
 * @property {string} notAfter
 * @property {number} daysLeft
 * @property {boolean} expired
 * @property {boolean} notYetValid
 * @property {boolean} expiresSoon
 * @property {string | null} rgsLevel
 * @property {boolean} qualified
 * @property {string} keyType `RSA`, `EC`
 * @property {number} keyBits
 * @property {string | null} curve
 * @property {string[]} usages
 * @property {boolean} hasPrivateKey
 * @property {boolean} alwaysAuthenticate
 * @property {boolean} loginCapable the key can log in: it never signs a page's digest
 * @property {string} certificate DER, base64
 */

/**
 * A choice as the consent window gets it (background/choices.js, consent.js): the
 * certificate with its token's PIN facts and, when a PIN session is kept for it, until when.
 * @typedef {Choice & {pinPad?: boolean, pinStatus?: object | null, keptUntil?: number | null}} ConsentChoice
 */

/**
 * One document of a consent window's list (a validated digest, a file, a pli); `format`: the
 * signature it gets (`pades`, `xades` jeton, `cades` .p7s), shown beside its name; `visible`:
 * the PAdES signature is drawn on the last page.
 * @typedef {{name?: string | null, size?: number | null, hashAlgorithm: string, hex: string, format?: string, visible?: boolean}} ConsentItem
 */

/**
 * What the consent window shows (background/consent.js `ask`'s view): who asks, what, and the
 * certificates to choose from; `failure`: no certificate fits, the window only says why;
 * `timestamp`: the host of the time-stamp authority the signatures will be sent to (B-T).
 * @typedef {{
 *   origin: string, tabTitle?: string, kind?: string, purpose?: string, items: ConsentItem[],
 *   choices: ConsentChoice[], failure?: ErrorJson, timestamp?: string,
 * }} ConsentView
 */

/**
 * Messages from the background to the consent window (background/consent.js's conversation).
 * @typedef {{type: 'show', view: ConsentView} | {type: 'pin-error', error: ErrorJson}
 *   | {type: 'failed', error: ErrorJson} | {type: 'done'} | ProgressMessage} ConsentMessage
 */

/**
 * Progress of the work after consent: documents signed or bytes decrypted so far; its end.
 * @typedef {{type: 'progress', done: number, total: number} | {type: 'progress-end', error?: ErrorJson | null}} ProgressMessage
 */

/**
 * A token's PIN state (docs/PROTOCOL.md, `status`).
 * @typedef {{countLow: boolean, finalTry: boolean, locked: boolean}} PinState
 */

/**
 * A PKCS#11 module of the host's `status`.
 * @typedef {{path: string, name?: string, source: string, loaded: boolean, library?: string, error?: string}} HostModule
 */

/**
 * A token of the host's `status` and `list-certificates`.
 * @typedef {{
 *   id: string, label: string, manufacturer: string, model: string, serial: string, module: string,
 *   slotDescription: string, loginRequired: boolean, protectedAuthenticationPath: boolean,
 *   pin: PinState | null, minPinLength?: number, maxPinLength?: number,
 * }} HostToken
 */

/**
 * A reader of the host's `status` (`pcsc.readers`), or as background/cards.js keeps it.
 * @typedef {{reader: string, atr: string | null, card: string | null, middleware: Middleware | null}} PcscReader
 */

/**
 * The host's `status` result.
 * @typedef {{
 *   modules: HostModule[], tokens: HostToken[],
 *   pcsc?: {available: boolean | null, message?: string | null, readers: PcscReader[]},
 * }} HostStatus
 */

/**
 * What « Tester ma carte » gets from {kind: "diagnostics"} (background/diagnostics.js).
 * @typedef {{
 *   extension?: {version: string, protocol: number}, browser?: string, platform?: string | null,
 *   host?: {available: boolean, version?: string, protocol?: number, os?: string, error?: ErrorJson},
 *   pcsc?: (HostStatus['pcsc'] & {fromEvents?: boolean}) | null, modules?: HostModule[],
 *   tokens?: HostToken[], certificates?: (Choice & {tokenSlot: string | null, pinPad: boolean})[],
 *   error?: ErrorJson,
 * }} DiagnosticsReport
 */

/**
 * The host's `tls-status` / `tls-register` result (docs/PROTOCOL.md).
 * @typedef {{
 *   supported: boolean, database?: string, modutil?: boolean,
 *   modules: {path: string, name?: string, nssName: string, registered: boolean, added?: boolean}[],
 * }} TlsStatus
 */

/**
 * Firefox: a module the host loaded, its PKCS#11 manifest name and whether Firefox has it
 * (null: no manifest of that name).
 * @typedef {{path: string, name: string, installed: boolean | null}} FirefoxModule
 */

/**
 * The background's answer to {kind: "status"} from its pages (background/background.js).
 * @typedef {{
 *   host: {available: boolean, version?: string, protocol?: number, error?: ErrorJson},
 *   tokens: HostToken[], modules: HostModule[], certificates: ConsentChoice[],
 * }} StatusReply
 */

/**
 * The radar's view of a tab, for the popup (background/radar.js `view`).
 * @typedef {{
 *   on: boolean, origin?: string, activation?: boolean,
 *   findings: {kind: string, details: unknown, status: string}[],
 *   certificates?: {holder: string, issuer: string}[] | null,
 * }} RadarView
 */

/**
 * The host's `list-certificates` result, as far as the extension reads it besides the core.
 * @typedef {{tokens: HostToken[], modules: HostModule[]} & Record<string, unknown>} HostCertificateList
 */

export {};

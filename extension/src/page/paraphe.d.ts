// Types for paraphe.js, the Paraphe client library. See docs/PAGE-API.md.

export type HashAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type SignatureScheme = 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
export type EcdsaEncoding = 'raw' | 'der';
export type Usage = 'signing' | 'authentication' | 'encryption';

export type ErrorCode =
  | 'EXTENSION_UNAVAILABLE' | 'HOST_UNAVAILABLE' | 'HOST_INCOMPATIBLE' | 'USER_CANCELLED' | 'TIMEOUT'
  | 'PIN_LOCKED' | 'NO_CERTIFICATE' | 'ORIGIN_NOT_ALLOWED' | 'INVALID_REQUEST' | 'INTERNAL'
  /** A raw signature (a digest or data the page chose) asked of a certificate that can log in. */
  | 'RAW_SIGNATURE_REFUSED'
  | 'USER_ACTIVATION_REQUIRED' | 'CONSENT_PENDING'
  | 'PLI_MALFORMED' | 'PLI_TRUNCATED' | 'PLI_DECRYPTION_FAILED' | 'PLI_INTEGRITY_FAILURE'
  /** PAdES: not a PDF (or damaged), encrypted, certified with no change allowed. */
  | 'PDF_INVALID' | 'PDF_ENCRYPTED' | 'PDF_CERTIFIED'
  /** A time-stamp authority is configured (PAdES/CAdES B-T) and did not time-stamp the signature. */
  | 'TIMESTAMP_FAILED'
  // passed through from the host (docs/PROTOCOL.md)
  | 'UNSUPPORTED_ALGORITHM' | 'DIGEST_LENGTH_MISMATCH' | 'CERTIFICATE_NOT_FOUND' | 'PRIVATE_KEY_NOT_FOUND'
  | 'TOKEN_NOT_PRESENT' | 'TOKEN_ERROR' | 'MODULE_UNAVAILABLE' | 'MECHANISM_NOT_SUPPORTED'
  | 'KEY_USAGE_NOT_ALLOWED' | 'MODULE_NOT_RESPONDING' | (string & {});

export declare class ParapheError extends Error {
  readonly code: ErrorCode;
  /** A batch stopped in the middle: indexes signed (their signatures below) and not signed. */
  readonly signed?: number[];
  readonly notSigned?: number[];
  readonly signatures?: Signature[];
}

export interface Certificate {
  /** SHA-256 of the DER certificate, 64 lowercase hex digits. */
  fingerprint: string;
  /** DER, base64. */
  certificate: string;
  holder: string;
  issuer: string;
  /** RFC 3339, UTC. */
  notAfter: string;
  rgsLevel?: string | null;
  keyType: 'RSA' | 'EC' | string;
  keyBits: number;
  curve?: string | null;
  usages: Usage[];
  qualified: boolean;
}

export interface Status {
  /** `version` (the host's) only once the person allowed this site (listCertificates asks). */
  host: { available: true; version?: string; protocol: number } | { available: false; error: { code: ErrorCode; message: string } };
  /** null until the person allowed this site (listCertificates asks). */
  tokens: { label: string | null; manufacturer: string; model: string; serial: string | null }[] | null;
}

export interface SignOptions {
  /** Fingerprint of the certificate to use; the person chooses when absent. */
  certificate?: string;
  /** Default: rsa-pkcs1 for RSA keys, ecdsa for EC keys. */
  scheme?: SignatureScheme;
  /** ECDSA only, raw format only; default raw (r‖s). */
  ecdsaEncoding?: EcdsaEncoding;
  /**
   * `raw` (default): the signature value; `cades`: a detached CAdES `.p7s` (DER, base64);
   * `xades`: a detached XAdES baseline B-B jeton `.xml` (UTF-8, base64) whose Reference URI is
   * the document's name (SHA-256, named documents only); `pades` (signDocument(s) only): the
   * signed PDF itself, as a Blob (see PadesSignature).
   */
  format?: 'raw' | 'cades' | 'xades' | 'pades';
  /** CAdES only: signature-policy-identifier (CAdES-EPES). */
  signaturePolicy?: { oid: string; hash: string; hashAlgorithm: HashAlgorithm; uri?: string };
  /** Each signature as soon as it is made (batches). */
  onProgress?: (p: { done: number; total: number; signature: Signature & { index: number } }) => void;
}

export interface Digest {
  /** Hex or base64; its length must match hashAlgorithm. */
  digest: string;
  hashAlgorithm: HashAlgorithm;
  /** Shown in the consent window. */
  name?: string;
  /** The document's size in bytes, shown in the consent window. */
  size?: number;
}

export interface Signature {
  digest: string;
  hashAlgorithm: HashAlgorithm;
  scheme: SignatureScheme;
  format: 'raw' | 'cades' | 'xades';
  /** Base64: the signature value (raw), the `.p7s` (cades) or the jeton `.xml` (xades). */
  signature: string;
}

/**
 * A PAdES signature (`format: 'pades'`): `signature` is the signed PDF, the original file
 * followed by an incremental update holding the signature (`application/pdf`).
 * `digest` is the original file's digest, as shown in the consent window.
 */
export interface PadesSignature {
  digest: string;
  hashAlgorithm: HashAlgorithm;
  scheme: SignatureScheme;
  format: 'pades';
  signature: Blob;
}

export interface SignResult {
  certificate: { fingerprint: string; certificate: string };
  signatures: Signature[];
}

/** The result of signDocument(s) with `format: 'pades'`. */
export interface PadesResult {
  certificate: { fingerprint: string; certificate: string };
  signatures: PadesSignature[];
}

/** A Web eID `web-eid:1.0` authentication token (docs/PAGE-API.md, `authenticate`). */
export interface AuthToken {
  /** The authentication certificate, DER base64: not trusted until the server checks its chain. */
  unverifiedCertificate: string;
  /** JWS name: ES256, ES384, ES512 (EC keys), RS256 (RSA keys). */
  algorithm: 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';
  /** Base64 signature of H(H(origin) ‖ H(challengeNonce)); raw r‖s for ECDSA. */
  signature: string;
  format: 'web-eid:1.0' | string;
  appVersion: string;
}

export function isAvailable(): Promise<boolean>;
export function status(): Promise<Status>;
/** The first time on a site, the person is asked whether it may see them (USER_CANCELLED if not). */
export function listCertificates(options?: { usage?: Usage | 'any' }): Promise<Certificate[]>;
export function signHash(args: ({ hash: string; hashAlgorithm?: HashAlgorithm; name?: string } | { hashes: Digest[] }) & SignOptions): Promise<SignResult>;
/** PAdES: the signed PDF comes back as a Blob (PadesSignature). */
export function signDocument(
  file: Blob,
  options: { hashAlgorithm?: Exclude<HashAlgorithm, 'sha1'>; name?: string; format: 'pades' } & PadesOptions,
): Promise<PadesResult>;
export function signDocument(file: Blob, options?: { hashAlgorithm?: Exclude<HashAlgorithm, 'sha1'>; name?: string } & SignOptions): Promise<SignResult>;
/** A batch: one consent listing every document, one PIN entry; 1 to 500 documents. */
export function signDocuments(
  files: (Blob | { file: Blob; name?: string })[],
  options: { hashAlgorithm?: Exclude<HashAlgorithm, 'sha1'>; format: 'pades' } & PadesOptions,
): Promise<PadesResult>;
export function signDocuments(
  files: (Blob | { file: Blob; name?: string })[],
  options?: { hashAlgorithm?: Exclude<HashAlgorithm, 'sha1'> } & SignOptions,
): Promise<SignResult>;
/** The options of a PAdES signature: no scheme, encoding or policy (the key's own scheme). */
export interface PadesOptions {
  certificate?: string;
  /**
   * A visible signature: a framed box in the bottom-right corner of the last page (as the page
   * is shown: its crop box and rotation), « Signé par <the certificate's CN> », the date (UTC)
   * and « Paraphe ». Default: an invisible signature field.
   */
  visible?: boolean;
  onProgress?: (p: { done: number; total: number; signature: PadesSignature & { index: number } }) => void;
}
/** Bytes as given to signData: raw, or base64 text. */
export type Bytes = Uint8Array | ArrayBuffer | string;
/**
 * Signs server-prepared bytes (iParapheur 5 / EU DSS `dataToSign`): hashed by the extension
 * (SHA-256 by default), the digest signed by the card: SHA256withRSA, or SHA256withECDSA for EC
 * keys (DER unless `ecdsaEncoding: 'raw'`). Several items: one consent, one PIN entry.
 */
export function signData(
  data: Bytes | { data: Bytes; name?: string }[],
  options?: { hashAlgorithm?: Exclude<HashAlgorithm, 'sha1'>; name?: string } & SignOptions,
): Promise<SignResult>;
/** Card login for this page's origin; `challengeNonce` comes from the server (base64, 44–128 characters). */
export function authenticate(args: { challengeNonce: string }): Promise<AuthToken>;

export interface DecryptResult {
  /** The whole decrypted content; only given once decrypted and checked. */
  plaintext: Blob;
  /** The pli's name without `.p7m` (or `.p7e`, `.cms`, `.env`, `.enc`). */
  name: string;
  size: number;
  /** The certificate whose key opened the pli. */
  certificate: { fingerprint: string; certificate: string };
  /** `aes-256-cbc`, `aes-128-gcm`, `des-ede3-cbc`… */
  contentEncryption: string;
  /** True for AES-GCM (AuthEnvelopedData): the content was authenticated. */
  authenticated: boolean;
}

/**
 * Opens a pli (CMS EnvelopedData / AuthEnvelopedData, DER or BER) addressed to a certificate
 * on the card: consent and PIN in the Paraphe window, key unwrapped by the card, content
 * decrypted by the extension. Errors include NO_CERTIFICATE, UNSUPPORTED_ALGORITHM,
 * MECHANISM_NOT_SUPPORTED, PLI_MALFORMED, PLI_TRUNCATED, PLI_DECRYPTION_FAILED,
 * PLI_INTEGRITY_FAILURE.
 */
export function decrypt(
  file: Blob,
  options?: { name?: string; onProgress?: (p: { done: number; total: number }) => void },
): Promise<DecryptResult>;

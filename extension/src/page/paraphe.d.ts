// Types for paraphe.js, the Paraphe client library. See docs/PAGE-API.md.

export type HashAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type SignatureScheme = 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa';
export type EcdsaEncoding = 'raw' | 'der';
export type Usage = 'signing' | 'authentication' | 'encryption';

export type ErrorCode =
  | 'EXTENSION_UNAVAILABLE' | 'HOST_UNAVAILABLE' | 'HOST_INCOMPATIBLE' | 'USER_CANCELLED' | 'TIMEOUT'
  | 'PIN_LOCKED' | 'NO_CERTIFICATE' | 'ORIGIN_NOT_ALLOWED' | 'INVALID_REQUEST' | 'INTERNAL'
  // passed through from the host (docs/PROTOCOL.md)
  | 'UNSUPPORTED_ALGORITHM' | 'DIGEST_LENGTH_MISMATCH' | 'CERTIFICATE_NOT_FOUND' | 'PRIVATE_KEY_NOT_FOUND'
  | 'TOKEN_NOT_PRESENT' | 'TOKEN_ERROR' | 'MODULE_UNAVAILABLE' | 'MECHANISM_NOT_SUPPORTED'
  | 'KEY_USAGE_NOT_ALLOWED' | (string & {});

export declare class ParapheError extends Error {
  readonly code: ErrorCode;
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
  host: { available: true; version: string; protocol: number } | { available: false; error: { code: ErrorCode; message: string } };
  tokens: { label: string; manufacturer: string; model: string; serial: string }[];
}

export interface SignOptions {
  /** Fingerprint of the certificate to use; the person chooses when absent. */
  certificate?: string;
  /** Default: rsa-pkcs1 for RSA keys, ecdsa for EC keys. */
  scheme?: SignatureScheme;
  /** ECDSA only; default raw (r‖s). */
  ecdsaEncoding?: EcdsaEncoding;
}

export interface Digest {
  /** Hex or base64; its length must match hashAlgorithm. */
  digest: string;
  hashAlgorithm: HashAlgorithm;
  /** Shown in the consent window. */
  name?: string;
}

export interface SignResult {
  certificate: { fingerprint: string; certificate: string };
  signatures: { digest: string; hashAlgorithm: HashAlgorithm; scheme: SignatureScheme; signature: string }[];
}

export function isAvailable(): Promise<boolean>;
export function status(): Promise<Status>;
export function listCertificates(options?: { usage?: Usage | 'any' }): Promise<Certificate[]>;
export function signHash(args: ({ hash: string; hashAlgorithm?: HashAlgorithm; name?: string } | { hashes: Digest[] }) & SignOptions): Promise<SignResult>;
export function signDocument(file: Blob, options?: { hashAlgorithm?: Exclude<HashAlgorithm, 'sha1'>; name?: string } & SignOptions): Promise<SignResult>;

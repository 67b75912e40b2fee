// The WeChat Pay v3 primitives: RSA-SHA256 (PKCS#1 v1.5) signatures over the documented
// line-oriented messages, and AEAD_AES_256_GCM for notification resources.
// Shared by the server and the sandbox so both speak exactly the same format.
import crypto, { type KeyObject } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of [0-9A-Za-z], as the SDKs use for nonces. */
export function randomNonce(length = 32): string {
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[bytes[i]! % ALNUM.length];
  return out;
}

/** Every v3 message is a list of lines, each terminated by "\n", the last one included. */
export function lines(...parts: string[]): string {
  return parts.map((p) => `${p}\n`).join('');
}

export function rsaSign(privateKey: KeyObject, message: string): string {
  return crypto.sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** The same signature, computed on libuv's thread pool: a busy server signs on every core, not only the event loop's. */
export function rsaSignAsync(privateKey: KeyObject, message: string): Promise<string> {
  return new Promise((resolve, reject) =>
    crypto.sign('sha256', Buffer.from(message, 'utf8'), privateKey, (err, sig) => (err ? reject(err) : resolve(sig.toString('base64')))),
  );
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** False for anything that is not a valid signature, including non-base64 input such as SIGNTEST probes. */
export function rsaVerify(publicKey: KeyObject, message: string, signatureB64: string): boolean {
  if (!BASE64.test(signatureB64) || signatureB64.length % 4 !== 0) return false;
  try {
    return crypto.verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

/** The five-line request message: METHOD, path with query, timestamp, nonce, body. */
export function requestMessage(method: string, pathWithQuery: string, timestamp: string, nonce: string, body: string): string {
  return lines(method.toUpperCase(), pathWithQuery, timestamp, nonce, body);
}

/** The three-line message WeChat signs on responses and notifications. */
export function responseMessage(timestamp: string, nonce: string, body: string): string {
  return lines(timestamp, nonce, body);
}

/** The four-line paySign message for wx.requestPayment (signType RSA). */
export function paySignMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
  return lines(appId, timeStamp, nonceStr, pkg);
}

export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

export interface AuthorizationParts {
  mchid: string;
  nonce_str: string;
  timestamp: string;
  serial_no: string;
  signature: string;
}

export function formatAuthorization(p: AuthorizationParts): string {
  return `${AUTH_SCHEME} mchid="${p.mchid}",nonce_str="${p.nonce_str}",timestamp="${p.timestamp}",serial_no="${p.serial_no}",signature="${p.signature}"`;
}

/** Parses an Authorization header; attribute order is irrelevant. Null when malformed. */
export function parseAuthorization(header: string | undefined): AuthorizationParts | null {
  if (!header?.startsWith(`${AUTH_SCHEME} `)) return null;
  const attrs: Record<string, string> = {};
  for (const part of header.slice(AUTH_SCHEME.length + 1).split(',')) {
    const m = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(part);
    if (!m) return null;
    attrs[m[1]!] = m[2]!;
  }
  const { mchid, nonce_str, timestamp, serial_no, signature } = attrs;
  if (!mchid || !nonce_str || !timestamp || !serial_no || !signature) return null;
  return { mchid, nonce_str, timestamp, serial_no, signature };
}

const TAG_LENGTH = 16;

function gcmCipherName(key: Buffer): 'aes-256-gcm' | 'aes-128-gcm' {
  if (key.length === 32) return 'aes-256-gcm';
  if (key.length === 16) return 'aes-128-gcm'; // only the SDK test vectors use 16-byte keys
  throw new Error(`APIv3 key must be 32 bytes, got ${key.length}`);
}

/** AEAD_AES_256_GCM as WeChat uses it: key and nonce are ASCII, ciphertext is base64(ct || tag). */
export function aesGcmEncrypt(apiV3Key: string, nonce: string, associatedData: string, plaintext: string): string {
  const key = Buffer.from(apiV3Key, 'utf8');
  const cipher = crypto.createCipheriv(gcmCipherName(key), key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([ct, cipher.getAuthTag()]).toString('base64');
}

/** Throws when the tag does not authenticate (wrong key, tampered data, wrong AAD). */
export function aesGcmDecrypt(apiV3Key: string, nonce: string, associatedData: string, ciphertextB64: string): string {
  const key = Buffer.from(apiV3Key, 'utf8');
  const data = Buffer.from(ciphertextB64, 'base64');
  if (data.length < TAG_LENGTH) throw new Error('ciphertext shorter than the GCM tag');
  const decipher = crypto.createDecipheriv(gcmCipherName(key), key, Buffer.from(nonce, 'utf8'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
  // final() is where the tag is checked; never skip it.
  return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_LENGTH)), decipher.final()]).toString('utf8');
}

export function loadPrivateKey(pem: string): KeyObject {
  return crypto.createPrivateKey(pem);
}

/** Accepts a PUBLIC KEY PEM or a CERTIFICATE PEM. */
export function loadPublicKey(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new crypto.X509Certificate(pem).publicKey;
  return crypto.createPublicKey(pem);
}

export function sha256Hex(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

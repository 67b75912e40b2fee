// WeChat Pay API v2 signatures: the non-empty parameters except `sign`, sorted by name (ASCII),
// joined as k=v&…, then `&key=<APIv2 key>`; MD5 or HMAC-SHA256 (keyed with the same APIv2 key),
// hex, upper case.
import crypto from 'node:crypto';

export type V2SignType = 'MD5' | 'HMAC-SHA256';

export type V2Params = Record<string, string | number | undefined | null>;

/** The exact string that is hashed (useful for the published vectors and for debugging a SIGNERROR). */
export function v2StringToSign(params: V2Params, apiKey: string): string {
  const pairs = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== null && String(params[k]) !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`);
  return `${pairs.join('&')}&key=${apiKey}`;
}

export function v2Sign(params: V2Params, apiKey: string, signType: V2SignType): string {
  const text = v2StringToSign(params, apiKey);
  const digest =
    signType === 'HMAC-SHA256' ? crypto.createHmac('sha256', apiKey).update(text, 'utf8') : crypto.createHash('md5').update(text, 'utf8');
  return digest.digest('hex').toUpperCase();
}

/** Constant-time check of `params.sign` under the declared or given sign type. */
export function v2Verify(params: V2Params, apiKey: string, signType: V2SignType): boolean {
  const given = typeof params.sign === 'string' ? params.sign.toUpperCase() : '';
  const expected = v2Sign(params, apiKey, signType);
  return given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** The sign type a message declares (`sign_type`), MD5 when it declares none; null for an unknown one. */
export function declaredSignType(params: V2Params): V2SignType | null {
  const t = params.sign_type;
  if (t === undefined || t === null || t === '' || t === 'MD5') return 'MD5';
  return t === 'HMAC-SHA256' ? 'HMAC-SHA256' : null;
}

/** Refund notifications carry `req_info`: AES-256-ECB (PKCS#7) under the lowercase hex MD5 of the APIv2 key. */
export function decryptReqInfo(reqInfoB64: string, apiKey: string): string {
  const key = Buffer.from(crypto.createHash('md5').update(apiKey, 'utf8').digest('hex'), 'utf8');
  const decipher = crypto.createDecipheriv('aes-256-ecb', key, null);
  return Buffer.concat([decipher.update(Buffer.from(reqInfoB64, 'base64')), decipher.final()]).toString('utf8');
}

export function encryptReqInfo(plaintext: string, apiKey: string): string {
  const key = Buffer.from(crypto.createHash('md5').update(apiKey, 'utf8').digest('hex'), 'utf8');
  const cipher = crypto.createCipheriv('aes-256-ecb', key, null);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

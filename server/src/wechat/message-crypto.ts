// WeChat's message-push security (shipping.md §4.1): the sha1 signature over the sorted token,
// timestamp and nonce (and, in safe mode, the Encrypt field), and AES-256-CBC with the EncodingAESKey,
// padded to a 32-byte block, around `random(16) ‖ length (4, big-endian) ‖ message ‖ appid`.
import crypto from 'node:crypto';

const BLOCK = 32;

export const pushSignature = (...parts: string[]): string =>
  crypto
    .createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');

/** Compares two hex signatures in constant time (false for any length mismatch). */
export function sameSignature(given: string | undefined, expected: string): boolean {
  if (!given || given.length !== expected.length) return false;
  return crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** The 32-byte AES key of a 43-character EncodingAESKey; null when it is not one. */
export function aesKeyOf(encodingAesKey: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) return null;
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  return key.length === 32 ? key : null;
}

export function encryptMessage(key: Buffer, message: string, appid: string): string {
  const body = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const plain = Buffer.concat([crypto.randomBytes(16), len, body, Buffer.from(appid, 'utf8')]);
  const pad = BLOCK - (plain.length % BLOCK);
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

/** The message inside `Encrypt`, once the appid it names is ours; throws otherwise. */
export function decryptMessage(key: Buffer, encrypted: string, appid: string): string {
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new Error('ciphertext is not whole AES blocks');
  const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false); // 32-byte PKCS#7: Node's own check would expect 16
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > BLOCK || pad > plain.length) throw new Error('bad padding');
  for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) throw new Error('bad padding');
  const content = plain.subarray(16, plain.length - pad);
  if (content.length < 4) throw new Error('message too short');
  const len = content.readUInt32BE(0);
  if (4 + len > content.length) throw new Error('message length out of range');
  const from = content.subarray(4 + len).toString('utf8');
  if (from !== appid) throw new Error('the message names another appid');
  return content.subarray(4, 4 + len).toString('utf8');
}

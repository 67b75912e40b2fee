// Secrets at rest (the shopper's session_key) are sealed with AES-256-GCM under DATA_ENCRYPTION_KEY,
// so a copied database file reveals nothing. Format: v1:<iv>:<ciphertext+tag>, base64.
import crypto from 'node:crypto';
import type { SecretSealer } from './domain/user';

const PREFIX = 'v1:';

export function createSecretBox(key: Buffer, purpose: string): SecretSealer {
  if (key.length !== 32) throw new Error('the data key must be 32 bytes');
  const aad = Buffer.from(purpose, 'utf8');
  return {
    seal(plain) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${iv.toString('base64')}:${ct.toString('base64')}`;
    },
    open(sealed) {
      if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed value');
      const [ivB64, ctB64] = sealed.slice(PREFIX.length).split(':');
      const iv = Buffer.from(ivB64 ?? '', 'base64');
      const data = Buffer.from(ctB64 ?? '', 'base64');
      if (iv.length !== 12 || data.length < 16) throw new Error('a sealed value is damaged');
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
    },
  };
}

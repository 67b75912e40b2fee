// Verifies WeChat Pay's signatures, picking the key by Wechatpay-Serial: the WeChat Pay public
// key (PUB_KEY_ID_…) and platform certificates side by side, so a migration needs no switch.
import crypto, { type KeyObject } from 'node:crypto';
import { loadPublicKey, rsaVerify } from './crypto';

export interface Verifier {
  /** The serial WeChat should sign responses with (sent as Wechatpay-Serial on requests). */
  readonly preferredSerial: string;
  knows(serial: string): boolean;
  verify(serial: string, message: string, signatureB64: string): boolean;
}

export interface VerifierKeys {
  publicKey?: { id: string; pem: string };
  platformCerts?: string[];
}

export function createVerifier(keys: VerifierKeys): Verifier {
  const bySerial = new Map<string, KeyObject>();
  if (keys.publicKey) bySerial.set(keys.publicKey.id, loadPublicKey(keys.publicKey.pem));
  for (const pem of keys.platformCerts ?? []) {
    const cert = new crypto.X509Certificate(pem);
    bySerial.set(cert.serialNumber.toUpperCase(), cert.publicKey);
  }
  if (bySerial.size === 0) throw new Error('a verifier needs a WeChat Pay public key or at least one platform certificate');
  const preferredSerial = keys.publicKey?.id ?? [...bySerial.keys()][0]!;
  return {
    preferredSerial,
    knows: (serial) => bySerial.has(serial.toUpperCase()) || bySerial.has(serial),
    verify(serial, message, signature) {
      const key = bySerial.get(serial) ?? bySerial.get(serial.toUpperCase());
      return key ? rsaVerify(key, message, signature) : false;
    },
  };
}

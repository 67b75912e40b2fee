// Verifies WeChat Pay's signatures, picking the key by Wechatpay-Serial: the WeChat Pay public key
// (PUB_KEY_ID_…) and platform certificates side by side, so a migration (the switch week, when callbacks
// come signed by either) needs no switch. Certificates come from configuration or from a keeper that
// downloads and rotates them (certificates.ts); an expired certificate verifies nothing.
import crypto, { type KeyObject } from 'node:crypto';
import type { CertificateKeeper } from './certificates';
import { loadPublicKey, rsaVerify } from './crypto';

export interface Verifier {
  /** The serial WeChat should sign responses with (sent as Wechatpay-Serial on requests). */
  readonly preferredSerial: string;
  knows(serial: string): boolean;
  verify(serial: string, message: string, signatureB64: string): boolean;
  /** A message named a serial we do not hold: fetch the certificates again (rate-limited); true when it is now held. */
  refreshFor?(serial: string): Promise<boolean>;
}

export interface VerifierKeys {
  publicKey?: { id: string; pem: string };
  platformCerts?: string[];
  /** Downloaded, rotating platform certificates. */
  keeper?: CertificateKeeper;
}

export function createVerifier(keys: VerifierKeys): Verifier {
  const fixed = new Map<string, { key: KeyObject; notAfter: number }>();
  if (keys.publicKey) fixed.set(keys.publicKey.id, { key: loadPublicKey(keys.publicKey.pem), notAfter: Number.POSITIVE_INFINITY });
  for (const pem of keys.platformCerts ?? []) {
    const cert = new crypto.X509Certificate(pem);
    fixed.set(cert.serialNumber.toUpperCase(), { key: cert.publicKey, notAfter: Date.parse(cert.validTo) });
  }
  const { keeper } = keys;
  if (fixed.size === 0 && !keeper)
    throw new Error('a verifier needs a WeChat Pay public key, a platform certificate or a certificate keeper');
  const keyOf = (serial: string): KeyObject | null => {
    const f = fixed.get(serial) ?? fixed.get(serial.toUpperCase());
    if (f) return f.notAfter > Date.now() ? f.key : null;
    return keeper?.key(serial) ?? null;
  };
  return {
    // The public key when there is one (WeChat then signs answers with it); else the newest certificate held.
    get preferredSerial() {
      if (keys.publicKey) return keys.publicKey.id;
      const held = [...(keeper?.certificates() ?? [])].sort((a, b) => b.notBefore - a.notBefore);
      return held[0]?.serial ?? [...fixed.keys()][0] ?? '';
    },
    knows: (serial) => keyOf(serial) !== null,
    verify(serial, message, signature) {
      const key = keyOf(serial);
      return key ? rsaVerify(key, message, signature) : false;
    },
    ...(keeper ? { refreshFor: (serial: string) => keeper.refreshFor(serial) } : {}),
  };
}

// The sandbox's identities and keys, created on first run and kept under the data folder, so
// sandbox mode needs no secrets at all. These keys are for the local sandbox only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { randomNonce } from '../server/src/wechatpay/crypto';

export interface SandboxKeys {
  appid: string;
  appSecret: string;
  mchid: string;
  /** The merchant's API key pair: the server signs with the private half, the sandbox verifies. */
  merchantPrivateKeyPem: string;
  merchantPublicKeyPem: string;
  merchantSerial: string;
  apiV3Key: string;
  /** WeChat Pay's signing key pair in public-key mode, named by publicKeyId. */
  platformPrivateKeyPem: string;
  platformPublicKeyPem: string;
  publicKeyId: string;
}

function rsaPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function generateSandboxKeys(): SandboxKeys {
  const merchant = rsaPair();
  const platform = rsaPair();
  const digits = (n: number) => Array.from(crypto.randomBytes(n), (b) => String(b % 10)).join('');
  return {
    appid: `wx${crypto.randomBytes(8).toString('hex')}`,
    appSecret: crypto.randomBytes(16).toString('hex'),
    mchid: `19${digits(8)}`,
    merchantPrivateKeyPem: merchant.privateKeyPem,
    merchantPublicKeyPem: merchant.publicKeyPem,
    merchantSerial: crypto.randomBytes(20).toString('hex').toUpperCase(),
    apiV3Key: randomNonce(32),
    platformPrivateKeyPem: platform.privateKeyPem,
    platformPublicKeyPem: platform.publicKeyPem,
    publicKeyId: `PUB_KEY_ID_01${digits(30)}`,
  };
}

/** Reads <dataDir>/sandbox/keys.json, creating it (mode 0600) on first use. */
export function ensureSandboxKeys(dataDir: string): SandboxKeys {
  const file = path.join(dataDir, 'sandbox', 'keys.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxKeys;
  const keys = generateSandboxKeys();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return keys;
}

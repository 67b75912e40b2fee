// The sandbox's identities and keys, created on first run and kept under the data folder, so
// sandbox mode needs no secrets at all. These keys are for the local sandbox only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NOTIFY_PATH } from '../server/src/config';
import { randomNonce } from '../server/src/wechatpay/crypto';
import { sandboxTemplates } from './templates';

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
  /** API v2: the APIv2 key (32 letters and digits). */
  apiV2Key?: string;
  /** API v2 refunds go over mutual TLS: the sandbox's CA, its server certificate, and the merchant API certificate. */
  tls?: SandboxTls;
  /** Message pushes (shipping.md §4): the Token and the 43-character EncodingAESKey of the push configuration. */
  messageToken?: string;
  encodingAesKey?: string;
}

export interface SandboxTls {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** apiclient_cert.pem: the merchant's key pair (merchantPrivateKeyPem), certified by the sandbox's CA. */
  merchantCertPem: string;
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
    apiV2Key: randomNonce(32),
  };
}

/** Certificates for the v2 refund endpoint's mutual TLS: a CA, the sandbox's server certificate and the merchant's. */
async function generateTls(keys: SandboxKeys): Promise<SandboxTls> {
  const { generate } = await import('selfsigned');
  const years = (n: number) => new Date(Date.now() + n * 365 * 24 * 3600_000);
  const ca = await generate([{ name: 'commonName', value: 'WeChat Pay sandbox CA (local only)' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: years(10),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: years(10),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const merchant = await generate(
    [
      { name: 'commonName', value: keys.mchid },
      { name: 'organizationName', value: 'WeChat Pay sandbox merchant' },
    ],
    {
      algorithm: 'sha256',
      notAfterDate: years(10),
      keyPair: { privateKey: keys.merchantPrivateKeyPem, publicKey: keys.merchantPublicKeyPem },
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    },
  );
  return { caCertPem: ca.cert, serverCertPem: server.cert, serverKeyPem: server.private, merchantCertPem: merchant.cert };
}

/** A WeChat Pay platform certificate (its own key pair, self-signed as the sandbox's stand-in for WeChat's CA), valid
 *  from `from` for `validDays`. */
export async function generatePlatformCertificate(
  mchid: string,
  from: number,
  validDays: number,
): Promise<{ pem: string; privateKeyPem: string }> {
  const { generate } = await import('selfsigned');
  const c = await generate(
    [
      { name: 'commonName', value: 'Tenpay.com sign' },
      { name: 'organizationName', value: `WeChat Pay sandbox platform certificate for ${mchid}` },
    ],
    {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: new Date(from - 60_000),
      notAfterDate: new Date(from + validDays * 86_400_000),
      extensions: [{ name: 'basicConstraints', cA: false }],
    },
  );
  return { pem: c.cert, privateKeyPem: c.private };
}

function writeKeys(file: string, keys: SandboxKeys): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The keys, with what API v2 needs added on first use (keys.json written before v2 existed gains them). */
export async function ensureSandboxKeysWithV2(
  dataDir: string,
): Promise<SandboxKeys & Required<Pick<SandboxKeys, 'apiV2Key' | 'tls' | 'messageToken' | 'encodingAesKey'>>> {
  const keys = ensureSandboxKeys(dataDir);
  const certSerial = (k: SandboxKeys) => (k.tls ? new crypto.X509Certificate(k.tls.merchantCertPem).serialNumber.toUpperCase() : null);
  if (!keys.apiV2Key || !keys.tls || certSerial(keys) !== keys.merchantSerial || !keys.messageToken || !keys.encodingAesKey) {
    keys.apiV2Key ??= randomNonce(32);
    keys.messageToken ??= randomNonce(32);
    keys.encodingAesKey ??= crypto.randomBytes(32).toString('base64').slice(0, 43);
    keys.tls ??= await generateTls(keys);
    // One merchant API certificate, as WeChat Pay issues it: the v3 serial is apiclient_cert.pem's own.
    keys.merchantSerial = certSerial(keys)!;
    writeKeys(path.join(dataDir, 'sandbox', 'keys.json'), keys);
  }
  return keys as SandboxKeys & Required<Pick<SandboxKeys, 'apiV2Key' | 'tls' | 'messageToken' | 'encodingAesKey'>>;
}

export type SandboxSigning = 'public-key' | 'certificate' | 'switch';

/** The sandbox's first platform certificate (certificate and switch modes), kept in <dataDir>/sandbox across restarts
 *  until it expires. */
export async function ensurePlatformCertificate(
  dataDir: string,
  mchid: string,
  now: number,
): Promise<{ pem: string; privateKeyPem: string }> {
  const file = path.join(dataDir, 'sandbox', 'platform-cert.json');
  if (fs.existsSync(file)) {
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as { pem: string; privateKeyPem: string };
    if (Date.parse(new crypto.X509Certificate(kept.pem).validTo) > now + 86_400_000) return kept;
  }
  const made = await generatePlatformCertificate(mchid, now, 5 * 365);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(made, null, 2), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return made;
}

/** Reads <dataDir>/sandbox/keys.json, creating it (mode 0600) on first use. */
export function ensureSandboxKeys(dataDir: string): SandboxKeys {
  const file = path.join(dataDir, 'sandbox', 'keys.json');
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxKeys;
  const keys = generateSandboxKeys();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeKeys(file, keys);
  return keys;
}

export interface CredentialsOptions {
  /** Where the sandbox listens: the server's WeChat and WeChat Pay base URLs. */
  sandboxUrl: string;
  /** Where the server listens: the notify URL is built from it. */
  apiUrl: string;
  /** An extra platform certificate the server should also trust (certificate-mode tests). */
  certificatePem?: string;
  /** How WeChat signs (SANDBOX_SIGNING): in `certificate` mode the server gets no WeChat Pay key at all and must
   *  download the platform certificates; in `switch` mode it gets the public key and downloads the certificates. */
  signing?: SandboxSigning;
  /** The v2 refund endpoint (mutual TLS). */
  tlsUrl?: string;
}

/**
 * Hands the sandbox's credentials over exactly as live credentials arrive: an env file of the
 * server's live-mode variables and the PEM files they name, beside keys.json. The sandbox's own
 * secret (WeChat Pay's signing key) stays in keys.json.
 */
export function writeCredentials(dataDir: string, keys: SandboxKeys, o: CredentialsOptions): Record<string, string> {
  const dir = path.resolve(dataDir, 'sandbox');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return file;
  };
  const env: Record<string, string> = {
    SANDBOX_URL: o.sandboxUrl,
    WECHAT_APPID: keys.appid,
    WECHAT_APP_SECRET: keys.appSecret,
    WECHATPAY_MCHID: keys.mchid,
    WECHATPAY_PRIVATE_KEY_FILE: write('apiclient_key.pem', keys.merchantPrivateKeyPem),
    WECHATPAY_CERT_SERIAL: keys.merchantSerial,
    WECHATPAY_APIV3_KEY: keys.apiV3Key,
    ...(o.signing === 'certificate'
      ? {}
      : { WECHATPAY_PUBLIC_KEY_FILE: write('pub_key.pem', keys.platformPublicKeyPem), WECHATPAY_PUBLIC_KEY_ID: keys.publicKeyId }),
    ...(o.certificatePem ? { WECHATPAY_PLATFORM_CERT_FILES: write('wechatpay_cert.pem', o.certificatePem) } : {}),
    ...(keys.apiV2Key ? { WECHATPAY_APIV2_KEY: keys.apiV2Key } : {}),
    ...(keys.tls && o.tlsUrl
      ? {
          WECHATPAY_CERT_FILE: write('apiclient_cert.pem', keys.tls.merchantCertPem),
          WECHATPAY_V2_REFUND_BASE: o.tlsUrl,
          WECHATPAY_V2_CA_FILE: write('sandbox_ca.pem', keys.tls.caCertPem),
        }
      : {}),
    WECHATPAY_NOTIFY_URL: `${o.apiUrl.replace(/\/$/, '')}${NOTIFY_PATH}`,
    ...(keys.messageToken && keys.encodingAesKey
      ? { WECHAT_MESSAGE_TOKEN: keys.messageToken, WECHAT_MESSAGE_AES_KEY: keys.encodingAesKey }
      : {}),
    ...Object.fromEntries(sandboxTemplates(keys.appid).map((t) => [`SUBSCRIBE_TEMPLATE_${t.name}`, t.id])),
    WECHAT_API_BASE: o.sandboxUrl,
    WECHATPAY_API_BASE: o.sandboxUrl,
  };
  const text = [
    '# Written by the WeChat sandbox at every start: the live-mode variables of a server that talks to it.',
    '# For the local sandbox only; these keys pay nothing. Load it with `node --env-file` or `set -a; . ./sandbox.env`.',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
  write('sandbox.env', text);
  return env;
}

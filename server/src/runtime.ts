// Wires config into a running system: store, WeChat clients, the app, and (in sandbox mode)
// the in-process sandbox. main.ts and the integration tests both start the system through here.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { buildApp } from './app';
import { ConfigError, type Config } from './config';
import { SEED_PRODUCTS } from './domain/catalog';
import type { Store } from './storage/port';
import { createSqliteStore } from './storage/sqlite';
import { reconcileOnce, startReconciler, type ReconcileReport } from './domain/reconcile';
import { createCode2SessionClient, type Code2SessionClient } from './wechat/code2session';
import { createWechatPayClient, type WechatPayClient } from './wechatpay/client';
import { loadPrivateKey } from './wechatpay/crypto';
import { systemClock, type Clock, type Merchant } from './wechatpay/merchant';
import { createVerifier, type Verifier } from './wechatpay/verifier';
import { ensureSandboxKeys } from '../../sandbox/keys';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/app';

export interface Runtime {
  apiUrl: string;
  sandboxUrl: string | null;
  sandbox: Sandbox | null;
  store: Store;
  merchant: Merchant;
  /** One reconciliation round now (the background job also runs on its interval). */
  reconcileNow(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

export interface WechatClients {
  merchant: Merchant;
  verifier: Verifier;
  code2session: Code2SessionClient;
  wechatPay: WechatPayClient;
  sandboxUrl: string | null;
}

/**
 * The merchant identity, WeChat Pay verifier and both WeChat clients for a config. In sandbox mode
 * the keys come from the sandbox's key file and the URLs point at the sandbox.
 */
export function createWechatClients(
  config: Config,
  o: { clock: Clock; apiUrl: string; sandboxUrl: string | null; extraPlatformCerts?: string[] },
): WechatClients {
  if (config.mode.kind === 'sandbox') {
    const keys = ensureSandboxKeys(config.dataDir);
    const sandboxUrl = (o.sandboxUrl ?? config.mode.sandboxUrl ?? `http://${config.host}:${config.sandboxPort}`).replace(/\/$/, '');
    const merchant: Merchant = {
      appid: keys.appid,
      mchid: keys.mchid,
      certSerial: keys.merchantSerial,
      privateKey: loadPrivateKey(keys.merchantPrivateKeyPem),
      apiV3Key: keys.apiV3Key,
      notifyUrl: `${o.apiUrl}/api/wechatpay/notify`,
    };
    const verifier = createVerifier({ publicKey: { id: keys.publicKeyId, pem: keys.platformPublicKeyPem }, platformCerts: o.extraPlatformCerts });
    return {
      merchant,
      verifier,
      sandboxUrl,
      code2session: createCode2SessionClient({ baseUrl: sandboxUrl, appid: keys.appid, appSecret: keys.appSecret }),
      wechatPay: createWechatPayClient({ baseUrl: sandboxUrl, merchant, verifier, clock: o.clock, timeoutMs: config.wechatPayTimeoutMs }),
    };
  }
  const c = config.mode.credentials;
  const merchant: Merchant = {
    appid: c.appid,
    mchid: c.mchid,
    certSerial: c.certSerial,
    privateKey: keyFromFile('WECHATPAY_PRIVATE_KEY_FILE', c.privateKeyFile, 'private'),
    apiV3Key: c.apiV3Key,
    notifyUrl: c.notifyUrl,
  };
  if (c.publicKey) keyFromFile('WECHATPAY_PUBLIC_KEY_FILE', c.publicKey.file, 'public');
  for (const f of c.platformCertFiles) keyFromFile('WECHATPAY_PLATFORM_CERT_FILES', f, 'certificate');
  const verifier = createVerifier({
    publicKey: c.publicKey ? { id: c.publicKey.id, pem: fs.readFileSync(c.publicKey.file, 'utf8') } : undefined,
    platformCerts: c.platformCertFiles.map((f) => fs.readFileSync(f, 'utf8')),
  });
  return {
    merchant,
    verifier,
    sandboxUrl: null,
    code2session: createCode2SessionClient({ baseUrl: c.wechatApiBase, appid: c.appid, appSecret: c.appSecret }),
    wechatPay: createWechatPayClient({ baseUrl: c.wechatPayApiBase, merchant, verifier, clock: o.clock, timeoutMs: config.wechatPayTimeoutMs }),
  };
}

export interface RuntimeOptions {
  logger: Logger;
  clock?: Clock;
  /** Extra sandbox options (tests switch controls, add a platform certificate). */
  sandbox?: Partial<Omit<SandboxOptions, 'keys'>>;
  /** Pre-built store (tests); otherwise chosen from config. */
  store?: Store;
  clientDir?: string;
  limits?: { loginPerMinute?: number; ordersPerMinute?: number };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

const closeServer = (s: http.Server) =>
  new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });

export async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (config.mongodbUri) {
    const { createMongoStore } = await import('./storage/mongo');
    logger.info('storage: MongoDB');
    return createMongoStore({ uri: config.mongodbUri });
  }
  const file = path.join(config.dataDir, 'checkout.sqlite');
  logger.info({ file }, 'storage: SQLite');
  return createSqliteStore({ filename: file });
}

/**
 * Reads and parses one key file, failing with the variable's name and what is wrong: the most
 * common live-mode mistakes are a wrong path, the certificate where the key belongs, or a key that
 * is not RSA-2048.
 */
function keyFromFile(variable: string, file: string, kind: 'private' | 'public' | 'certificate'): KeyObject {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let key: KeyObject;
  try {
    if (kind === 'private') key = loadPrivateKey(pem);
    else if (kind === 'certificate') key = new crypto.X509Certificate(pem).publicKey;
    else key = crypto.createPublicKey(pem);
  } catch {
    const expected = { private: 'a PEM private key (apiclient_key.pem)', public: 'a PEM public key (pub_key.pem)', certificate: 'a PEM certificate' }[kind];
    throw new ConfigError([`${variable}: ${file} is not ${expected}`]);
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError([`${variable}: ${file} must hold an RSA key of at least 2048 bits`]);
  }
  return key;
}

export async function startRuntime(config: Config, opts: RuntimeOptions): Promise<Runtime> {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const store = opts.store ?? (await openStore(config, logger));
  await store.seedProducts(SEED_PRODUCTS);

  const apiServer = http.createServer();
  const apiPort = await listen(apiServer, config.port, config.host);
  const apiUrl = `http://${config.host}:${apiPort}`;

  let sandbox: Sandbox | null = null;
  let sandboxServer: http.Server | null = null;
  let sandboxUrl: string | null = null;
  if (config.mode.kind === 'sandbox' && !config.mode.sandboxUrl) {
    const keys = ensureSandboxKeys(config.dataDir);
    sandbox = createSandbox({ keys, allowHttpNotifyUrl: true, now: () => clock.now(), ...opts.sandbox });
    sandboxServer = http.createServer(sandbox.app);
    const port = await listen(sandboxServer, config.sandboxPort, config.host);
    sandboxUrl = `http://${config.host}:${port}`;
  }
  let wechat: WechatClients;
  try {
    wechat = createWechatClients(config, { clock, apiUrl, sandboxUrl, extraPlatformCerts: opts.sandbox?.certificate ? [opts.sandbox.certificate.pem] : [] });
  } catch (err) {
    // A bad key file: release what is already open before reporting it.
    sandbox?.stop();
    await closeServer(apiServer);
    if (sandboxServer) await closeServer(sandboxServer);
    if (!opts.store) await store.close();
    throw err;
  }
  sandboxUrl = wechat.sandboxUrl;
  const { merchant, verifier } = wechat;

  const app = buildApp({
    store,
    code2session: wechat.code2session,
    wechatPay: wechat.wechatPay,
    merchant,
    verifier,
    clock,
    logger,
    sessionTtlMs: config.sessionTtlMs,
    payWindowMs: config.orderPayWindowMs,
    queryThrottleMs: config.orderQueryThrottleMs,
    clientDir: opts.clientDir,
    sandboxUrl,
    limits: opts.limits,
  });
  apiServer.on('request', app);

  const reconciler =
    config.reconcileIntervalMs > 0
      ? startReconciler(
          { store, wechatPay: wechat.wechatPay, merchant, now: () => clock.now(), logger, minAgeMs: config.reconcileMinAgeMs },
          config.reconcileIntervalMs,
        )
      : null;

  return {
    apiUrl,
    sandboxUrl,
    sandbox,
    store,
    merchant,
    reconcileNow: () =>
      reconcileOnce({ store, wechatPay: wechat.wechatPay, merchant, now: () => clock.now(), logger, minAgeMs: config.reconcileMinAgeMs }),
    async close() {
      await reconciler?.stop();
      sandbox?.stop();
      await closeServer(apiServer);
      if (sandboxServer) await closeServer(sandboxServer);
      await store.close();
    },
  };
}

// Wires config into a running system: store, WeChat clients, the app, and (in sandbox mode)
// the in-process sandbox. main.ts and the integration tests both start the system through here.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { buildApp } from './app';
import type { Config } from './config';
import { SEED_PRODUCTS } from './domain/catalog';
import type { Store } from './storage/port';
import { createSqliteStore } from './storage/sqlite';
import { createCode2SessionClient } from './wechat/code2session';
import { createWechatPayClient } from './wechatpay/client';
import { loadPrivateKey } from './wechatpay/crypto';
import { systemClock, type Clock, type Merchant } from './wechatpay/merchant';
import { createVerifier } from './wechatpay/verifier';
import { ensureSandboxKeys } from '../../sandbox/keys';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/app';

export interface Runtime {
  apiUrl: string;
  sandboxUrl: string | null;
  sandbox: Sandbox | null;
  store: Store;
  merchant: Merchant;
  close(): Promise<void>;
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
  let merchant: Merchant;
  let verifier;
  let wechatApiBase: string;
  let wechatPayApiBase: string;
  let appSecret: string;

  if (config.mode.kind === 'sandbox') {
    const keys = ensureSandboxKeys(config.dataDir);
    if (config.mode.sandboxUrl) {
      sandboxUrl = config.mode.sandboxUrl.replace(/\/$/, '');
    } else {
      sandbox = createSandbox({ keys, allowHttpNotifyUrl: true, now: () => clock.now(), ...opts.sandbox });
      sandboxServer = http.createServer(sandbox.app);
      const port = await listen(sandboxServer, config.sandboxPort, config.host);
      sandboxUrl = `http://${config.host}:${port}`;
    }
    merchant = {
      appid: keys.appid,
      mchid: keys.mchid,
      certSerial: keys.merchantSerial,
      privateKey: loadPrivateKey(keys.merchantPrivateKeyPem),
      apiV3Key: keys.apiV3Key,
      notifyUrl: `${apiUrl}/api/wechatpay/notify`,
    };
    const certs = opts.sandbox?.certificate ? [opts.sandbox.certificate.pem] : [];
    verifier = createVerifier({ publicKey: { id: keys.publicKeyId, pem: keys.platformPublicKeyPem }, platformCerts: certs });
    wechatApiBase = sandboxUrl;
    wechatPayApiBase = sandboxUrl;
    appSecret = keys.appSecret;
  } else {
    const c = config.mode.credentials;
    merchant = {
      appid: c.appid,
      mchid: c.mchid,
      certSerial: c.certSerial,
      privateKey: loadPrivateKey(fs.readFileSync(c.privateKeyFile, 'utf8')),
      apiV3Key: c.apiV3Key,
      notifyUrl: c.notifyUrl,
    };
    verifier = createVerifier({
      publicKey: c.publicKey ? { id: c.publicKey.id, pem: fs.readFileSync(c.publicKey.file, 'utf8') } : undefined,
      platformCerts: c.platformCertFiles.map((f) => fs.readFileSync(f, 'utf8')),
    });
    wechatApiBase = c.wechatApiBase;
    wechatPayApiBase = c.wechatPayApiBase;
    appSecret = c.appSecret;
  }

  const app = buildApp({
    store,
    code2session: createCode2SessionClient({ baseUrl: wechatApiBase, appid: merchant.appid, appSecret }),
    wechatPay: createWechatPayClient({ baseUrl: wechatPayApiBase, merchant, verifier, clock }),
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

  return {
    apiUrl,
    sandboxUrl,
    sandbox,
    store,
    merchant,
    async close() {
      sandbox?.stop();
      await closeServer(apiServer);
      if (sandboxServer) await closeServer(sandboxServer);
      await store.close();
    },
  };
}

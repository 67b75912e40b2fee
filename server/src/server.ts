// Wires a configuration into a running server: the store, WeChat's clients behind the shop's
// ports, the app and the reconciler. One path, whether WeChat is WeChat or the local sandbox:
// the difference is only in the configured URLs and credentials.
import cluster from 'node:cluster';
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { RateLimiterCluster, RateLimiterMemory, RateLimiterMongo } from 'rate-limiter-flexible';
import { buildApp, listRoutes } from './app';
import { createMetrics } from './metrics';
import type { FulfilmentDeps } from './domain/fulfilment';
import { createReminderLog } from './domain/reminders';
import type { ShippingProvider } from './shipping/port';
import { createWechatShipping } from './shipping/wechat';
import { systemClock, type Clock } from './clock';
import { ConfigError, type Config } from './config';
import { purgeExpiredSessions } from './domain/auth';
import { SEED_PRODUCTS } from './domain/catalog';
import { createRefusalLog } from './domain/refusals';
import type { LimiterFactory } from './http/rate-limit';
import type { CheckoutDeps } from './domain/deps';
import { startReconciler, type ReconcileReport } from './domain/reconcile';
import type { IdentityProvider } from './identity/port';
import { wechatLogin } from './identity/wechat-login';
import type { PaymentProvider } from './payments/port';
import { createWechatPayV2Provider } from './payments/wechatpay-v2';
import { createWechatPayV3Provider } from './payments/wechatpay-v3';
import type { Store } from './storage/port';
import { createSqliteStore } from './storage/sqlite';
import { createCode2SessionClient } from './wechat/code2session';
import { loadPrivateKey } from './wechatpay/crypto';
import { createSecretBox } from './secret-box';
import { mongoConnectionOf } from './storage/mongo/connection';
import type { Merchant } from './wechatpay/merchant';
import { createVerifier } from './wechatpay/verifier';

export interface Providers {
  payments: PaymentProvider;
  identity: IdentityProvider;
  /** WeChat's shipping-info management (发货信息管理), on the same WeChat API base as login. */
  shipping: ShippingProvider;
}

/**
 * Reads and parses one key file, failing with the variable's name and what is wrong: the most
 * common mistakes are a wrong path, the certificate where the key belongs, or a key that is not
 * RSA-2048.
 */
function keyFromFile(variable: string, file: string, kind: 'private' | 'public' | 'certificate'): { key: KeyObject; pem: string } {
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
    const expected = {
      private: 'a PEM private key (apiclient_key.pem)',
      public: 'a PEM public key (pub_key.pem)',
      certificate: 'a PEM certificate',
    }[kind];
    throw new ConfigError([`${variable}: ${file} is not ${expected}`]);
  }
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError([`${variable}: ${file} must hold an RSA key of at least 2048 bits`]);
  }
  return { key, pem };
}

/** Reads a file named by a variable, failing with the variable's name. */
function readNamed(variable: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
}

/** The payment and identity providers for a configuration; key files are read and parsed once, here. */
export function createProviders(config: Config, clock: Clock = systemClock): Providers {
  const c = config.wechat;
  const identity = wechatLogin(createCode2SessionClient({ baseUrl: c.wechatApiBase, appid: c.appid, appSecret: c.appSecret }));
  const shipping = createWechatShipping({
    baseUrl: c.wechatApiBase,
    appid: c.appid,
    appSecret: c.appSecret,
    mchid: c.mchid,
    contactPhone: config.shipping.contactPhone,
    now: () => clock.now(),
  });
  const p = config.wechatPay;
  if (p.version === 'v2') {
    if (p.tls) {
      readNamed('WECHATPAY_CERT_FILE', p.tls.certFile);
      keyFromFile('WECHATPAY_PRIVATE_KEY_FILE', p.tls.keyFile, 'private');
      keyFromFile('WECHATPAY_CERT_FILE', p.tls.certFile, 'certificate');
    }
    const payments = createWechatPayV2Provider({
      baseUrl: c.wechatPayApiBase,
      refundBaseUrl: p.refundBase,
      appid: c.appid,
      mchid: c.mchid,
      apiKey: p.apiKey,
      signType: p.signType,
      notifyUrl: c.notifyUrl,
      clientIp: p.clientIp,
      tls: p.tls
        ? {
            cert: readNamed('WECHATPAY_CERT_FILE', p.tls.certFile),
            key: readNamed('WECHATPAY_PRIVATE_KEY_FILE', p.tls.keyFile),
            ca: p.tls.caFile ? readNamed('WECHATPAY_V2_CA_FILE', p.tls.caFile) : undefined,
          }
        : undefined,
      clock,
      timeoutMs: config.wechatPayTimeoutMs,
    });
    return { payments, identity, shipping };
  }
  const merchant: Merchant = {
    appid: c.appid,
    mchid: c.mchid,
    certSerial: p.certSerial,
    privateKey: keyFromFile('WECHATPAY_PRIVATE_KEY_FILE', p.privateKeyFile, 'private').key,
    apiV3Key: p.apiV3Key,
    notifyUrl: c.notifyUrl,
  };
  const verifier = createVerifier({
    publicKey: p.publicKey
      ? { id: p.publicKey.id, pem: keyFromFile('WECHATPAY_PUBLIC_KEY_FILE', p.publicKey.file, 'public').pem }
      : undefined,
    platformCerts: p.platformCertFiles.map((f) => keyFromFile('WECHATPAY_PLATFORM_CERT_FILES', f, 'certificate').pem),
  });
  return {
    payments: createWechatPayV3Provider({ baseUrl: c.wechatPayApiBase, merchant, verifier, clock, timeoutMs: config.wechatPayTimeoutMs }),
    identity,
    shipping,
  };
}

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

export interface ServerOptions {
  logger: Logger;
  clock?: Clock;
  /** Pre-built store (tests); otherwise chosen from config. */
  store?: Store;
  /** The built H5 client to serve at / (a "building" page until it exists). */
  clientDir?: string;
  limits?: { loginPerMinute?: number; ordersPerMinute?: number; retriesPerMinute?: number; readsPerMinute?: number };
}

/**
 * Limits that hold wherever the server runs several processes: node:cluster workers share the
 * primary's (it must run RateLimiterClusterMaster), MongoDB deployments share a collection; one
 * process keeps them in memory.
 */
export function limiterFactory(store: Store): LimiterFactory {
  const connection = mongoConnectionOf(store);
  if (connection)
    return (name, points, duration) => new RateLimiterMongo({ storeClient: connection, keyPrefix: `limit:${name}`, points, duration });
  if (cluster.isWorker)
    return (name, points, duration) => new RateLimiterCluster({ keyPrefix: `limit:${name}`, points, duration, timeoutMs: 1000 });
  return (name, points, duration) => new RateLimiterMemory({ keyPrefix: `limit:${name}`, points, duration });
}

export interface Server {
  apiUrl: string;
  store: Store;
  provider: PaymentProvider;
  /** One reconciliation round now (the background job also runs on its interval). */
  reconcileNow(): Promise<ReconcileReport>;
  /** Refused notification deliveries since start, by reason. */
  refusedNotifications(): Record<string, number>;
  /** Every route the app answers (`METHOD /path`), for the OpenAPI document's test. */
  routes(): string[];
  close(): Promise<void>;
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

export const closeHttpServer = (s: http.Server) =>
  new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });

export async function startServer(config: Config, opts: ServerOptions): Promise<Server> {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  for (const w of config.warnings) logger.warn(w);
  // Key files first: a bad one stops the server before anything is opened.
  const providers = createProviders(config, clock);
  const store = opts.store ?? (await openStore(config, logger));
  const metrics = createMetrics();
  try {
    await store.seedProducts(SEED_PRODUCTS);
    const now = () => clock.now();
    // Order reads may ask WeChat Pay about pending orders: at most 20 a second for the whole process.
    const queryBudget = new RateLimiterMemory({ keyPrefix: 'wechatpay-queries', points: 20, duration: 1 });
    const checkout: CheckoutDeps = {
      store: metrics.store(store),
      provider: metrics.provider(providers.payments),
      now,
      logger,
      payWindowMs: config.orderPayWindowMs,
      queryThrottleMs: config.orderQueryThrottleMs,
      queryThrottle: new Map(),
      // Longer than the provider calls made under one lease (at most three in a Retry).
      leaseMs: Math.max(30_000, 3 * config.wechatPayTimeoutMs + 5_000),
      mayQueryProvider: () =>
        queryBudget.consume('all').then(
          () => true,
          () => false,
        ),
    };
    const fulfilment: FulfilmentDeps = {
      store: checkout.store,
      shipping: providers.shipping,
      now,
      logger,
      contactPhone: config.shipping.contactPhone,
      merchantId: config.wechat.mchid,
    };
    const reconciler = startReconciler(
      { ...checkout, minAgeMs: config.reconcileMinAgeMs, fulfilment },
      config.reconcileIntervalMs,
      metrics.reconciled,
    );
    // WeChat's shipping messages open the shop's order page; failing here only costs the default page.
    void providers.shipping
      .setJumpPath(config.shipping.jumpPath)
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, "set_msg_jump_path failed; shipping messages open WeChat's default page"),
      );
    const auth = {
      store,
      identity: providers.identity,
      now,
      sessionTtlMs: config.sessionTtlMs,
      sealer: createSecretBox(config.dataKey, 'session_key'),
    };
    // Expired sessions authenticate nobody; they are deleted at boot and every hour.
    const purge = () =>
      purgeExpiredSessions(auth).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'purging expired sessions failed'));
    await purge();
    const purgeTimer = setInterval(purge, 3600_000).unref();
    const refusals = createRefusalLog({ store, logger, now });
    const app = buildApp({
      checkout,
      notify: { ...checkout, refusals },
      auth,
      logger,
      clientDir: opts.clientDir,
      sandboxUrl: config.sandboxUrl,
      limits: { ...config.limits, ...opts.limits },
      limiter: limiterFactory(store),
      trustProxy: config.trustProxy,
      adminToken: config.adminToken,
      stats: () => ({ store: store.commitStats?.() ?? null, refusedNotifications: refusals.counts() }),
      metrics,
      reconcileNow: () => reconciler.runNow(),
      refusedNotifications: () => refusals.counts(),
      fulfilment,
      reminders: createReminderLog(),
      messages:
        config.shipping.messageToken && config.shipping.messageAesKey
          ? { token: config.shipping.messageToken, aesKey: config.shipping.messageAesKey, appid: config.wechat.appid }
          : null,
    });
    const httpServer = http.createServer(app);
    let port: number;
    try {
      port = await listen(httpServer, config.port, config.host);
    } catch (err) {
      await reconciler.stop();
      throw err;
    }
    return {
      apiUrl: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
      store,
      provider: providers.payments,
      reconcileNow: () => reconciler.runNow(),
      refusedNotifications: () => refusals.counts(),
      routes: () => listRoutes(app),
      async close() {
        clearInterval(purgeTimer);
        await reconciler.stop();
        await closeHttpServer(httpServer);
        if (!opts.store) await store.close();
      },
    };
  } catch (err) {
    if (!opts.store) await store.close().catch(() => undefined);
    throw err;
  }
}

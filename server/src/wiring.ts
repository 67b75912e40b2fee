// The composition root: the one place that turns a configuration into the shop's dependencies — the
// store (wrapped for metrics once), WeChat's clients behind the domain's ports, and the use cases' deps.
// `npm run serve`, each cluster worker, `npm run reconcile` and the doctor all build them here, so none
// of them can drift from another. Whether WeChat is WeChat or the local sandbox is only a matter of the
// configured URLs and credentials.
import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import cluster from 'node:cluster';
import { RateLimiterCluster, RateLimiterMemory, RateLimiterMongo } from 'rate-limiter-flexible';
import type { LimiterFactory } from './http/rate-limit';
import { mongoConnectionOf } from './storage/mongo/connection';
import { systemClock, type Clock } from './clock';
import { ConfigError, type Config } from './config';
import type { AuthDeps } from './domain/auth';
import { SEED_PRODUCTS } from './domain/catalog';
import type { CheckoutDeps } from './domain/deps';
import type { FulfilmentDeps } from './domain/fulfilment';
import type { IdentityProvider } from './domain/ports/identity-provider';
import type { PaymentProvider } from './domain/ports/payment-provider';
import type { ShippingProvider } from './domain/ports/shipping-provider';
import type { Store } from './domain/ports/store';
import type { NotifyDeps } from './domain/receive-notification';
import type { ReconcileDeps } from './domain/reconcile';
import type { BooksDeps } from './domain/books';
import { createRefusalLog, createRefusalSampler, type RefusalSampler } from './domain/refusals';
import { wechatLogin } from './identity/wechat-login';
import { createMetrics, type Metrics } from './metrics';
import { createWechatPayV2Provider } from './payments/wechatpay-v2';
import { createWechatPayV3Provider } from './payments/wechatpay-v3';
import { createSecretBox } from './secret-box';
import { createWechatShipping } from './shipping/wechat';
import { createSqliteStore } from './storage/sqlite';
import { createCode2SessionClient } from './wechat/code2session';
import { loadPrivateKey } from './wechatpay/crypto';
import type { Merchant } from './wechatpay/merchant';
import { createVerifier } from './wechatpay/verifier';
import { createWechatComplaints } from './complaints/wechat';
import { createWechatMessages } from './messages/wechat';
import type { MessageSender } from './domain/ports/message-sender';
import type { SubscriptionDeps } from './domain/subscriptions';
import type { ComplaintProvider } from './domain/ports/complaint-provider';
import type { ComplaintDeps } from './domain/complaints';
import { type CertificateKeeper, createCertificateKeeper, type KeeperLog } from './wechatpay/certificates';
import { createWechatPayClient, type WechatPayClient } from './wechatpay/client';

const quietLog: KeeperLog = { info() {}, warn() {}, error() {} };

export interface Providers {
  payments: PaymentProvider;
  /** API v3: WeChat Pay's platform certificates, downloaded and rotated (null for v2). */
  certificates: CertificateKeeper | null;
  /** Both complaint systems (WeChat Pay's consumer complaints need API v3). */
  complaints: ComplaintProvider;
  /** Subscribe messages to the shopper. */
  messages: MessageSender;
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

/** The payment and identity providers for a configuration; key files are read and parsed once, here. The certificate
 *  keeper logs through `certificateLog` (the server's logger; the doctor passes a quiet one). */
export function createProviders(config: Config, clock: Clock = systemClock, certificateLog: KeeperLog = quietLog): Providers {
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
  const messages = createWechatMessages({ templates: config.subscribe.templates, api: shipping.api });
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
    const complaints = createWechatComplaints({ mchid: c.mchid, pay: null, miniprogram: shipping.api, now: () => clock.now() });
    return { payments, identity, shipping, certificates: null, complaints, messages };
  }
  const merchant: Merchant = {
    appid: c.appid,
    mchid: c.mchid,
    certSerial: p.certSerial,
    privateKey: keyFromFile('WECHATPAY_PRIVATE_KEY_FILE', p.privateKeyFile, 'private').key,
    apiV3Key: p.apiV3Key,
    notifyUrl: c.notifyUrl,
  };
  const publicKey = p.publicKey
    ? { id: p.publicKey.id, pem: keyFromFile('WECHATPAY_PUBLIC_KEY_FILE', p.publicKey.file, 'public').pem }
    : undefined;
  const publicKeyObject = publicKey ? crypto.createPublicKey(publicKey.pem) : null;
  // Platform certificates: those configured, and those WeChat Pay lists, downloaded at start and refreshed (the
  // server starts the refreshes); cached in DATA_DIR so a restart during an outage still verifies.
  let client: WechatPayClient | null = null;
  const certificates = createCertificateKeeper({
    fetch: () => client!.certificates(),
    apiV3Key: p.apiV3Key,
    now: () => clock.now(),
    log: certificateLog,
    configured: p.platformCertFiles.map((f) => keyFromFile('WECHATPAY_PLATFORM_CERT_FILES', f, 'certificate').pem),
    known: (serial) => (publicKey && serial === publicKey.id ? publicKeyObject : null),
    cacheFile: path.join(config.dataDir, 'wechatpay', 'platform-certificates.json'),
  });
  const verifier = createVerifier({ publicKey, keeper: certificates });
  client = createWechatPayClient({
    baseUrl: c.wechatPayApiBase,
    merchant,
    verifier,
    now: () => clock.now(),
    timeoutMs: config.wechatPayTimeoutMs,
  });
  const complaints = createWechatComplaints({
    mchid: c.mchid,
    pay: { client, verifier, apiV3Key: p.apiV3Key, merchantKey: merchant.privateKey },
    miniprogram: shipping.api,
    now: () => clock.now(),
  });
  return {
    complaints,
    messages,
    payments: createWechatPayV3Provider({ baseUrl: c.wechatPayApiBase, merchant, verifier, clock, client }),
    identity,
    shipping,
    certificates,
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

export interface WiringOptions {
  logger: Logger;
  clock?: Clock;
  /** A store already open (tests); otherwise the configured one is opened, and closed by `close()`. */
  store?: Store;
}

/** Everything the server, the reconcile command and the doctor run on. */
export interface Wiring {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** The store, metered: every use case gets this one. */
  store: Store;
  providers: Providers;
  metrics: Metrics;
  checkout: CheckoutDeps;
  notify: NotifyDeps;
  /** Refused message pushes, counted by reason and sampled into the log. */
  pushRefusals: RefusalSampler;
  auth: AuthDeps;
  fulfilment: FulfilmentDeps;
  reconcile: ReconcileDeps;
  /** Complaints: notifications, pushes, answers. */
  complaints: ComplaintDeps;
  /** Subscribe messages: credits and the sender. */
  subscriptions: SubscriptionDeps;
  /** The daily books against WeChat Pay's bill. */
  books: BooksDeps;
  /** Closes what the wiring opened (the store, unless it was given). */
  close(): Promise<void>;
}

/** Builds the dependencies for a configuration: key files first (a bad one stops before anything is opened), then the store. */
export async function wire(config: Config, opts: WiringOptions): Promise<Wiring> {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const providers = createProviders(config, clock, logger);
  const opened = opts.store ?? (await openStore(config, logger));
  try {
    await opened.seedProducts(SEED_PRODUCTS);
  } catch (err) {
    if (!opts.store) await opened.close().catch(() => undefined);
    throw err;
  }
  const metrics = createMetrics();
  const store = metrics.store(opened);
  const now = () => clock.now();
  // Order reads may ask WeChat Pay about pending orders: at most 20 a second for the whole process.
  const queryBudget = new RateLimiterMemory({ keyPrefix: 'wechatpay-queries', points: 20, duration: 1 });
  const checkout: CheckoutDeps = {
    store,
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
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  const complaints: ComplaintDeps = {
    store,
    provider: checkout.provider,
    now,
    logger,
    complaints: providers.complaints,
    sealer: createSecretBox(config.dataKey, 'payer_phone'),
    refusals: createRefusalLog({ store, logger, now }),
  };
  const fulfilment: FulfilmentDeps = {
    store,
    shipping: providers.shipping,
    now,
    logger,
    contactPhone: config.shipping.contactPhone,
    merchantId: config.wechat.mchid,
  };
  return {
    config,
    logger,
    clock,
    store,
    providers,
    metrics,
    checkout,
    notify: { ...checkout, refusals: createRefusalLog({ store, logger, now }) },
    pushRefusals: createRefusalSampler({ logger, now, what: 'message pushes' }),
    auth: {
      store,
      identity: providers.identity,
      now,
      sessionTtlMs: config.sessionTtlMs,
      sealer: createSecretBox(config.dataKey, 'session_key'),
    },
    fulfilment,
    reconcile: { ...checkout, minAgeMs: config.reconcileMinAgeMs, leaseMs: checkout.leaseMs, fulfilment, complaints },
    complaints,
    subscriptions: {
      store,
      messages: providers.messages,
      now,
      logger,
      onOutcome: (kind, outcome) => metrics.messageSent(kind, outcome),
    },
    books: { store, provider: checkout.provider, now, logger },
    close: async () => {
      if (!opts.store) await opened.close();
    },
  };
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

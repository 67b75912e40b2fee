import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApp, listRoutes } from './app';
import { limiterFactory, wire } from './wiring';
import { createReminderLog } from './domain/reminders';
import type { Clock } from './clock';
import { COMPLAINTS_PATH, type Config, NOTIFY_PATH } from './config';
import { purgeExpiredSessions } from './domain/auth';
import { purgeOpsSessions, type OpsSessionDeps } from './domain/ops-sign-in';
import { startReconciler, type ReconcileReport } from './domain/reconcile';
import { startBooks } from './domain/books';
import { startMessenger } from './domain/subscriptions';
import type { PaymentProvider } from './domain/ports/payment-provider';
import type { Store } from './domain/ports/store';

export interface ServerOptions {
  logger: Logger;
  clock?: Clock;
  /** Pre-built store (tests); otherwise chosen from config. */
  store?: Store;
  /** The built H5 client to serve at / (a "building" page until it exists). */
  clientDir?: string;
  limits?: { loginPerMinute?: number; ordersPerMinute?: number; retriesPerMinute?: number; readsPerMinute?: number };
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
  for (const w of config.warnings) logger.warn(w);
  const w = await wire(config, { logger, clock: opts.clock, store: opts.store });
  try {
    const { providers, store, metrics } = w;
    // API v3: WeChat Pay's platform certificates, downloaded now (a failure keeps the cached ones) and every
    // WECHATPAY_CERT_REFRESH_HOURS, and again when a message names one we do not hold.
    const keeper = providers.certificates;
    if (keeper) {
      // Start-up waits for the download only when there is nothing else to verify with (no public key, none cached).
      const keyless = keeper.certificates().length === 0 && config.wechatPay.version === 'v3' && !config.wechatPay.publicKey;
      const first = keeper.refresh().then((r) => {
        if (!r.ok && keyless && keeper.certificates().length === 0)
          logger.error(
            { err: r.detail },
            'no WeChat Pay key to verify with: the platform certificates could not be downloaded and none is cached; answers and notifications are refused until they are',
          );
      });
      if (keyless) await first;
      keeper.start(config.certificateRefreshMs);
      metrics.certificates(() => keeper.certificates().map((c) => ({ serial: c.serial, kind: 'platform', notAfter: c.notAfter })));
    }
    const reconciler = startReconciler(w.reconcile, config.reconcileIntervalMs, metrics.reconciled);
    const books = startBooks(w.books, config.books, (o) => {
      if (o.state === 'RECONCILED') metrics.booksReconciled(o.day);
    });
    // WeChat's shipping messages open the shop's order page; failing here only costs the default page.
    void providers.shipping
      .setJumpPath(config.shipping.jumpPath)
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, "set_msg_jump_path failed; shipping messages open WeChat's default page"),
      );
    // Complaint notifications (WeChat Pay, API v3): registered at start beside the notify URL, as an operator does
    // once with WeChat, without holding up the start; a failure is logged, the reconciler still re-reads complaints.
    const complaintsUrl = config.wechat.notifyUrl.replace(NOTIFY_PATH, COMPLAINTS_PATH);
    if (config.wechatPay.version === 'v3')
      void providers.complaints
        .registerNotificationUrl(complaintsUrl)
        .catch((err: unknown) =>
          logger.warn(
            { err: (err as Error).message },
            'complaint notification URL not registered; PUT /api/admin/complaints/notification-url to retry',
          ),
        );
    metrics.complaints(async () => [
      ...(await store.listComplaints({ state: 'NEW', limit: 10_000 })),
      ...(await store.listComplaints({ state: 'IN_PROGRESS', limit: 10_000 })),
    ]);
    // Subscribe messages: sent after the event is committed, by rounds (and a kick when a shopper subscribes).
    const messenger = startMessenger(w.subscriptions, config.subscribe.intervalMs);
    const adminToken = config.adminToken;
    const opsSessions: OpsSessionDeps | null = adminToken
      ? {
          store,
          now: () => w.clock.now(),
          adminToken,
          // Keyed by the data key: the stored fingerprint tells nobody anything about the token.
          fingerprint: (token) => crypto.createHmac('sha256', config.dataKey).update('ops-admin-token\0').update(token).digest('hex'),
        }
      : null;
    // Expired sessions authenticate nobody, and expired push nonces guard nothing: deleted at boot and every hour.
    const purge = () =>
      Promise.all([purgeExpiredSessions(w.auth), store.purgeClaims(w.clock.now()), opsSessions ? purgeOpsSessions(opsSessions) : 0]).catch(
        (err: unknown) => logger.warn({ err: (err as Error).message }, 'purging expired sessions and push nonces failed'),
      );
    await purge();
    const purgeTimer = setInterval(purge, 3600_000).unref();
    const refusals = w.notify.refusals;
    const app = buildApp({
      checkout: w.checkout,
      notify: w.notify,
      auth: w.auth,
      logger,
      storeKind: store.kind,
      clientDir: opts.clientDir,
      sandboxUrl: config.sandboxUrl,
      limits: { ...config.limits, ...opts.limits },
      limiter: limiterFactory(store),
      trustProxy: config.trustProxy,
      adminToken,
      opsSessions,
      // Served over https in production (the notify URL says so): the cookie is Secure whatever a request claims.
      opsCookieSecure: config.wechat.notifyUrl.startsWith('https://') ? 'always' : 'when-https',
      stats: () => ({ store: store.commitStats?.() ?? null, refusedNotifications: refusals.counts() }),
      metrics,
      reconcileNow: () => reconciler.runNow(),
      refusedNotifications: () => refusals.counts(),
      fulfilment: w.fulfilment,
      books: { deps: w.books, onDay: (day) => metrics.booksReconciled(day) },
      complaints: w.complaints,
      complaintsUrl,
      subscriptions: { ...w.subscriptions, kick: () => messenger.kick() },
      keys: () => [
        ...(config.wechatPay.version === 'v3' && config.wechatPay.publicKey
          ? [{ name: '微信支付公钥', serial: config.wechatPay.publicKey.id, notAfter: null }]
          : []),
        ...(keeper?.certificates() ?? []).map((c) => ({ name: '微信支付平台证书', serial: c.serial, notAfter: c.notAfter })),
      ],
      reminders: createReminderLog(),
      pushes: { replays: store, refusals: w.pushRefusals },
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
      await books.stop();
      await messenger.stop();
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
        keeper?.stop();
        await messenger.stop();
        await reconciler.stop();
        await books.stop();
        await closeHttpServer(httpServer);
        await w.close();
      },
    };
  } catch (err) {
    await w.close().catch(() => undefined);
    throw err;
  }
}

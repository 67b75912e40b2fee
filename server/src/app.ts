// buildApp(deps) assembles middleware and routers into the Express app; it never listens by itself.
import express from 'express';
import { COMPLAINTS_PATH, MESSAGES_PATH, NOTIFY_PATH } from './config';
import type { Logger } from 'pino';
import type { AuthDeps } from './domain/auth';
import type { CheckoutDeps } from './domain/deps';
import { AppError } from './domain/errors';
import { type AdminBooks, adminRoutes } from './http/admin';
import type { KeyExpiry } from './http/ops/orders-page';
import { ADMIN_FAILURES_PER_MINUTE, createAdminGuard } from './http/admin-guard';
import { authRoutes } from './http/auth';
import { errorMiddleware } from './http/errors';
import { serveH5Client } from './http/h5-client';
import { healthRoutes } from './http/health';
import { jsonBodies, quietRequestLog, requestLog, securityHeaders } from './http/middleware';
import type { LimiterFactory } from './http/rate-limit';
import type { NotifyDeps } from './domain/receive-notification';
import { notifyRoutes } from './http/notify';
import { complaintNotifyRoutes } from './http/complaint-notify';
import type { ComplaintDeps } from './domain/complaints';
import type { SubscriptionDeps } from './domain/subscriptions';
import { messageRoutes } from './http/messages';
import type { FulfilmentDeps } from './domain/fulfilment';
import type { ReminderLog } from './domain/reminders';
import type { OpsSessionDeps } from './domain/ops-sign-in';
import type { ReplayStore } from './domain/ports/store';
import type { RefusalSampler } from './domain/refusals';
import { openApiRoutes } from './http/openapi';
import { opsRoutes } from './http/ops';
import type { ReconcileReport } from './domain/reconcile';
import { orderRoutes } from './http/orders';
import { productRoutes } from './http/products';
import type { Metrics } from './metrics';

export interface AppDeps {
  checkout: CheckoutDeps;
  notify: NotifyDeps;
  auth: AuthDeps;
  logger: Logger;
  /** Which store answers (health says so). */
  storeKind: string;
  /** Built H5 client to serve at / (a "building" page until it exists). */
  clientDir?: string;
  /** Where the browser build finds the sandbox's payer endpoints (sandbox-backed configurations only). */
  sandboxUrl?: string | null;
  /** Per-client limits, per minute. */
  limits: { loginPerMinute: number; ordersPerMinute: number; retriesPerMinute: number; readsPerMinute: number };
  limiter: LimiterFactory;
  /** Express's `trust proxy`: which hops to believe for the client's address. */
  trustProxy: false | number | string[];
  /** The operator's bearer token; null turns the admin routes off (404). */
  adminToken: string | null;
  /** What the process counts: commits of the store, refused notifications by reason. */
  stats: () => Record<string, unknown>;
  /** Prometheus metrics, served at /metrics behind the admin token. */
  metrics: Metrics;
  /** One reconciliation round now (the ops page's button). */
  reconcileNow(): Promise<ReconcileReport>;
  /** Refused notification deliveries since start, by reason. */
  refusedNotifications(): Record<string, number>;
  /** Shipping: the operator ships, the shopper confirms receipt, WeChat pushes back. */
  fulfilment: FulfilmentDeps;
  /** The daily books: admin routes and the ops page. */
  books: AdminBooks;
  /** The keys WeChat Pay is verified with, for the ops page. */
  keys?: () => KeyExpiry[];
  /** Complaints (both systems): notifications, pushes, the admin API and the ops inbox; absent, routes answer 404. */
  complaints?: ComplaintDeps;
  /** The URL registered with WeChat Pay for complaint notifications. */
  complaintsUrl?: string;
  /** Subscribe messages: the shopper's acceptances, and a kick for the sender. */
  subscriptions?: SubscriptionDeps & { kick(): void };
  /** The message-push configuration (Token, EncodingAESKey, appid); null turns /api/wechat/messages off (404). */
  messages: { token: string; aesKey: string; appid: string } | null;
  /** Message pushes: the store that remembers each push's (timestamp, nonce), and the sampler of refusals. */
  pushes: { replays: ReplayStore; refusals: RefusalSampler };
  /** WeChat's reminders about orders unshipped for 48 hours, for the ops page. */
  reminders: ReminderLog;
  /** The operator's sessions on the ops page; null without an admin token. */
  opsSessions: OpsSessionDeps | null;
  /** Whether the ops cookie is Secure: always (the shop is served over https) or when the request came over https. */
  opsCookieSecure: 'always' | 'when-https';
}

export function buildApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  // The API's answers are `no-store`: an ETag would be a SHA-1 of every body for nothing. Static
  // files keep theirs (serve-static computes its own from the file's size and time).
  app.set('etag', false);

  app.use(securityHeaders());
  app.use(requestLog(deps.logger));
  app.use(deps.metrics.http);
  const guard = createAdminGuard({
    token: deps.adminToken,
    limiter: deps.limiter('admin-failures', ADMIN_FAILURES_PER_MINUTE, 60),
    count: deps.metrics.adminAuth,
  });
  // Prometheus text, for the operator's scraper: behind the admin token like the rest of ops.
  app.get('/metrics', guard.bearer, async (_req, res) => {
    res
      .set('Cache-Control', 'no-store')
      .type(deps.metrics.registry.contentType)
      .send(await deps.metrics.registry.metrics());
  });

  // Before the JSON parser: the notification is read as raw bytes.
  app.use(NOTIFY_PATH, quietRequestLog, notifyRoutes(deps.notify));
  app.use(COMPLAINTS_PATH, quietRequestLog, complaintNotifyRoutes(deps.complaints ?? null));
  // WeChat's message pushes (shipping, trade complaints): signed, and encrypted in safe mode; also read raw.
  app.use(
    MESSAGES_PATH,
    quietRequestLog,
    messageRoutes({
      ...deps.fulfilment,
      ...deps.pushes,
      config: deps.messages,
      reminders: deps.reminders,
      complaints: deps.complaints ?? null,
    }),
  );

  // The API's routes hang from the app itself, one router level fewer on every request's way.
  app.use('/api', jsonBodies('16kb'));
  app.use('/api/health', healthRoutes({ store: deps.checkout.store, storeKind: deps.storeKind, now: deps.checkout.now }));
  app.use('/api/auth', authRoutes(deps.auth, deps.limits, deps.limiter));
  app.use('/api/products', productRoutes(deps.checkout));
  // Which subscribe-message templates the mini program asks for after the pay tap (none configured: none asked).
  app.get('/api/subscribe-templates', (_req, res) => {
    const m = deps.subscriptions?.messages;
    const templates = Object.fromEntries(
      (['paid', 'shipped', 'refunded'] as const).flatMap((k) => {
        const id = m?.templateOf(k);
        return id ? [[k, id]] : [];
      }),
    );
    res.set('Cache-Control', 'public, max-age=300').json({ templates });
  });
  orderRoutes(app, '/api/orders', deps.checkout, deps.auth, deps.limits, deps.limiter, deps.fulfilment, deps.subscriptions ?? null);
  app.use(
    '/api/admin',
    adminRoutes(
      deps.checkout,
      guard,
      deps.stats,
      deps.fulfilment,
      deps.books,
      deps.complaints ? { deps: deps.complaints, url: deps.complaintsUrl ?? '' } : null,
    ),
  );
  app.use('/api', openApiRoutes());
  app.use('/api', (req) => {
    throw new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);
  });
  app.use(
    '/admin',
    opsRoutes({
      payments: deps.checkout,
      fulfilment: deps.fulfilment,
      reminders: deps.reminders,
      guard,
      sessions: deps.opsSessions,
      cookieSecure: deps.opsCookieSecure,
      reconcileNow: deps.reconcileNow,
      refusedNotifications: deps.refusedNotifications,
      books: deps.books,
      keys: deps.keys ?? (() => []),
      complaints: deps.complaints ?? null,
    }),
  );

  if (deps.clientDir) app.use(serveH5Client(deps.clientDir, deps.sandboxUrl ?? null));

  app.use(errorMiddleware(deps.logger));
  return app;
}

/** Every route the app answers, as `METHOD /path` with Express's `:param` syntax (for the OpenAPI test). */
export function listRoutes(app: express.Express): string[] {
  const out: string[] = [];
  // Express keeps its routing table untyped: a layer has a route, or a nested router's stack.
  type Layer = { rawPath?: unknown; route?: { path: unknown; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const at = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods))
          if (method !== '_all') out.push(`${method.toUpperCase()} ${`${prefix}${layer.route.path}`.replace(/(.)\/$/, '$1')}`);
      } else if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack, prefix + at);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(out)];
}

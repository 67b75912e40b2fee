// buildApp(deps) returns the Express app; it never listens by itself.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { authenticate, login, logout, type AuthDeps } from './domain/auth';
import { createOrder, getOrder, listOrders, retryPayment, type CheckoutDeps } from './domain/checkout';
import { AppError } from './domain/errors';
import type { Store, User } from './storage/port';
import type { Code2SessionClient } from './wechat/code2session';
import type { WechatPayClient } from './wechatpay/client';
import type { Clock, Merchant } from './wechatpay/merchant';
import type { Verifier } from './wechatpay/verifier';
import { createOrderBody, idempotencyKey, loginBody, orderIdParam, type CheckoutResponse } from './http/schemas';
import { parse } from './http/validate';
import { errorMiddleware } from './http/errors';
import { rateLimit, securityHeaders, requestLog } from './http/middleware';
import { notifyHandler } from './http/notify';
import { serveClient } from './http/client';

export interface AppDeps {
  store: Store;
  code2session: Code2SessionClient;
  wechatPay: WechatPayClient;
  merchant: Merchant;
  verifier: Verifier;
  clock: Clock;
  logger: Logger;
  sessionTtlMs: number;
  payWindowMs: number;
  queryThrottleMs: number;
  /** Built H5 client to serve at / (a "building" page until it exists). */
  clientDir?: string;
  /** Where the browser build finds the sandbox's payer endpoints. */
  sandboxUrl?: string | null;
  /** Per-IP limits; generous defaults, tests can lower them. */
  limits?: { loginPerMinute?: number; ordersPerMinute?: number };
}

type Authed = Request & { user: User; token: string };

export function buildApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const now = () => deps.clock.now();
  const authDeps: AuthDeps = { store: deps.store, wechat: deps.code2session, now, sessionTtlMs: deps.sessionTtlMs };
  const checkoutDeps: CheckoutDeps = {
    store: deps.store,
    wechatPay: deps.wechatPay,
    merchant: deps.merchant,
    now,
    logger: deps.logger,
    payWindowMs: deps.payWindowMs,
    queryThrottleMs: deps.queryThrottleMs,
    queryThrottle: new Map(),
  };

  app.use(securityHeaders);
  app.use(requestLog(deps.logger));

  // The notify route reads raw bytes: the signature covers them exactly as sent.
  app.post('/api/wechatpay/notify', express.raw({ type: () => true, limit: '64kb' }), notifyHandler({ ...checkoutDeps, verifier: deps.verifier }));

  const api = express.Router();
  api.use(express.json({ limit: '16kb', type: () => true }));

  api.get('/health', async (_req, res) => {
    await deps.store.listProducts();
    res.json({ status: 'ok', store: deps.store.kind, time: new Date(now()).toISOString() });
  });

  api.post('/auth/login', rateLimit('login', deps.limits?.loginPerMinute ?? 30, now), async (req, res) => {
    const { code } = parse(loginBody, req.body);
    res.json(await login(authDeps, code));
  });

  api.get('/products', async (_req, res) => {
    res.json({ products: await deps.store.listProducts() });
  });

  const requireUser = async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('Authorization') ?? '';
    const token = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(header)?.[1];
    const user = await authenticate(authDeps, token);
    Object.assign(req, { user, token });
    next();
  };

  api.post('/auth/logout', requireUser, async (req, res) => {
    await logout(authDeps, (req as Authed).token);
    res.status(204).end();
  });

  api.post('/orders', requireUser, rateLimit('orders', deps.limits?.ordersPerMinute ?? 60, now), async (req, res) => {
    const body = parse(createOrderBody, req.body);
    const keyHeader = req.get('Idempotency-Key');
    const key = keyHeader === undefined ? null : parse(idempotencyKey, keyHeader, 'Idempotency-Key');
    const result = await createOrder(checkoutDeps, (req as Authed).user, body.items, key);
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    const response: CheckoutResponse = { order: result.order, payment: result.payment };
    res.status(result.replayed ? 200 : 201).json(response);
  });

  api.get('/orders', requireUser, async (req, res) => {
    res.json({ orders: await listOrders(checkoutDeps, (req as Authed).user) });
  });

  api.get('/orders/:id', requireUser, async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    res.json({ order: await getOrder(checkoutDeps, (req as Authed).user, id) });
  });

  api.post('/orders/:id/payment', requireUser, async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const result = await retryPayment(checkoutDeps, (req as Authed).user, id);
    const response: CheckoutResponse = { order: result.order, payment: result.payment };
    res.json(response);
  });

  api.use((req) => {
    throw new AppError('NOT_FOUND', `no route ${req.method} ${req.baseUrl}${req.path}`);
  });

  app.use('/api', api);

  if (deps.clientDir) app.use(serveClient(deps.clientDir, deps.sandboxUrl ?? null));

  app.use(errorMiddleware(deps.logger));
  return app;
}

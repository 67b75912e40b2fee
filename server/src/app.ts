// buildApp(deps) returns the Express app; it never listens by itself.
import fs from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { authenticate, login, logout, type AuthDeps } from './domain/auth';
import { createOrder, getOrder, listOrders, retryPayment, type CheckoutDeps } from './domain/checkout';
import { AppError } from './domain/errors';
import { handleVerifiedNotification } from './domain/notifications';
import type { Store, User } from './storage/port';
import type { Code2SessionClient } from './wechat/code2session';
import type { WechatPayClient } from './wechatpay/client';
import type { Clock, Merchant } from './wechatpay/merchant';
import { NotificationRejected, parseNotification } from './wechatpay/notification';
import type { Verifier } from './wechatpay/verifier';
import { sha256Hex } from './wechatpay/crypto';
import { createOrderBody, idempotencyKey, loginBody, orderIdParam, type CheckoutResponse } from './http/schemas';
import { parse } from './http/validate';
import { errorMiddleware } from './http/errors';
import { rateLimit, securityHeaders, requestLog } from './http/middleware';
import { injectClientConfig } from './client-build';

const BUILDING_PAGE =
  '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">' +
  '<meta name="viewport" content="width=device-width,initial-scale=1"><title>正在构建</title></head>' +
  '<body style="font-family:sans-serif;text-align:center;padding-top:30vh;color:#555">正在构建前端页面，完成后自动刷新…</body></html>';

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
  app.post('/api/wechatpay/notify', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const h = (name: string) => req.get(name) ?? undefined;
    const requestId = h('Request-ID') ?? null;
    const fail = (status: number, message: string) => res.status(status).json({ code: 'FAIL', message });
    let verified;
    try {
      verified = parseNotification(
        { verifier: deps.verifier, apiV3Key: deps.merchant.apiV3Key, nowMs: now },
        {
          serial: h('Wechatpay-Serial'),
          signature: h('Wechatpay-Signature'),
          timestamp: h('Wechatpay-Timestamp'),
          nonce: h('Wechatpay-Nonce'),
          signatureType: h('Wechatpay-Signature-Type'),
          requestId: requestId ?? undefined,
        },
        raw,
      );
    } catch (err) {
      if (!(err instanceof NotificationRejected)) throw err;
      deps.logger.warn({ reason: err.reason, requestId, serial: h('Wechatpay-Serial') }, 'notification rejected');
      try {
        await deps.store.recordRejectedNotification({
          receivedAt: now(),
          reason: err.reason,
          serial: h('Wechatpay-Serial') ?? null,
          requestId,
          bodySha256: sha256Hex(raw),
        });
      } catch (storeErr) {
        deps.logger.error({ err: (storeErr as Error).message }, 'could not record a rejected notification');
      }
      return fail(err.status, err.message);
    }
    try {
      const answer = await handleVerifiedNotification(checkoutDeps, verified, requestId);
      deps.logger.info({ notificationId: verified.id, outcome: answer.outcome, duplicate: answer.duplicate, requestId }, 'notification processed');
      if (answer.status === 204) return res.status(204).end();
      return fail(answer.status, answer.outcome);
    } catch (err) {
      // Not persisted: a 5xx makes WeChat deliver again later.
      deps.logger.error({ notificationId: verified.id, err: (err as Error).message }, 'notification not persisted; WeChat will retry');
      return fail(500, 'temporarily unable to process; retry');
    }
  });

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

  if (deps.clientDir) {
    const dir = deps.clientDir;
    app.use(express.static(dir, { index: false, maxAge: 0 }));
    // Any other GET is the single-page app (Taro's H5 router uses hash routes).
    app.get(/^(?!\/api\/).*/, (_req, res) => {
      const index = path.join(dir, 'index.html');
      if (!fs.existsSync(index)) {
        res.status(503).set('Retry-After', '3').type('html').send(BUILDING_PAGE);
        return;
      }
      res.type('html').set('Cache-Control', 'no-cache').send(injectClientConfig(fs.readFileSync(index, 'utf8'), { sandboxBase: deps.sandboxUrl ?? null }));
    });
  }

  app.use(errorMiddleware(deps.logger));
  return app;
}

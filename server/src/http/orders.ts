// /api/orders: place an order (and get the payment fields), read orders, Retry a payment.
import { z } from 'zod';
import { recordSubscriptions, type SubscriptionDeps } from '../domain/subscriptions';
import type { Router } from 'express';
import type { AuthDeps } from '../domain/auth';
import type { CheckoutDeps } from '../domain/deps';
import { confirmReceipt, type FulfilmentDeps } from '../domain/fulfilment';
import { retryPayment } from '../domain/payment-attempts';
import { createOrder } from '../domain/place-order';
import { getOrder, listOrders } from '../domain/read-orders';
import { requireUser, userOf } from './auth';
import { sendJson } from './middleware';
import { rateLimit, type LimiterFactory } from './rate-limit';
import { createOrderBody, idempotencyKey, orderIdParam, type CheckoutResponse, type OrderResponse, type OrdersResponse } from './schemas';
import { parse } from './validate';

export interface OrderLimits {
  ordersPerMinute: number;
  retriesPerMinute: number;
  readsPerMinute: number;
}

/**
 * Registers the order routes on `r` under `base` (/api/orders): on the app itself, so the hottest
 * routes are one router level from the socket (each level re-parses and re-matches the path).
 */
export const subscriptionsBody = z.strictObject({
  accepted: z.array(z.enum(['paid', 'shipped', 'refunded'])).max(3),
});

export function orderRoutes(
  r: Router,
  base: string,
  deps: CheckoutDeps,
  auth: Pick<AuthDeps, 'store' | 'now'>,
  limits: OrderLimits,
  limiter: LimiterFactory,
  fulfilment: FulfilmentDeps,
  subscriptions: (SubscriptionDeps & { kick(): void }) | null = null,
): void {
  const user = requireUser(auth);
  // Per shopper, not per address: a rotating X-Forwarded-For changes nothing, and nobody can lock out another.
  const byUser = (req: Parameters<typeof userOf>[0]) => userOf(req).id;
  const creating = rateLimit(limiter('orders', limits.ordersPerMinute, 60), byUser);
  const retrying = rateLimit(limiter('retries', limits.retriesPerMinute, 60), byUser);
  const reading = rateLimit(limiter('reads', limits.readsPerMinute, 60), byUser);

  // `${base}/`, not `base`: the same routes (Express matches either), and the route label metrics have always had.
  r.post(`${base}/`, user, creating, async (req, res) => {
    const body = parse(createOrderBody, req.body);
    const keyHeader = req.get('Idempotency-Key');
    const key = keyHeader === undefined ? null : parse(idempotencyKey, keyHeader, 'Idempotency-Key');
    const result = await createOrder(deps, userOf(req), body.items, key);
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    const response: CheckoutResponse = { order: result.order, payment: result.payment };
    sendJson(res, result.replayed ? 200 : 201, response);
  });

  r.get(`${base}/`, user, reading, async (req, res) => {
    const response: OrdersResponse = { orders: await listOrders(deps, userOf(req)) };
    sendJson(res, 200, response);
  });

  r.get(`${base}/:id`, user, reading, async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const response: OrderResponse = { order: await getOrder(deps, userOf(req), id) };
    sendJson(res, 200, response);
  });

  // Back from WeChat's confirm-receipt component: the server asks WeChat, never trusting the client's word.
  r.post(`${base}/:id/receipt`, user, retrying, async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    await confirmReceipt(fulfilment, userOf(req), id);
    const response: OrderResponse = { order: await getOrder(deps, userOf(req), id) };
    sendJson(res, 200, response);
  });

  // What the shopper accepted in the subscription dialog after the pay tap: one send credit per message kind.
  r.post(`${base}/:id/subscriptions`, user, retrying, async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const body = parse(subscriptionsBody, req.body);
    if (!subscriptions) return sendJson(res, 200, { subscriptions: [] });
    const credits = await recordSubscriptions(subscriptions, userOf(req), id, body.accepted);
    subscriptions.kick(); // the order may already be paid: send now rather than at the next round
    sendJson(res, 200, { subscriptions: credits.map((c) => ({ kind: c.kind, state: c.state })) });
  });

  r.post(`${base}/:id/payment`, user, retrying, async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const result = await retryPayment(deps, userOf(req), id);
    const response: CheckoutResponse = { order: result.order, payment: result.payment };
    sendJson(res, 200, response);
  });
}

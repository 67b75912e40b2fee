// /api/orders: place an order (and get the payment fields), read orders, Retry a payment.
import express, { type Router } from 'express';
import type { AuthDeps } from '../domain/auth';
import type { CheckoutDeps } from '../domain/deps';
import { retryPayment } from '../domain/payment-attempts';
import { createOrder } from '../domain/place-order';
import { getOrder, listOrders } from '../domain/read-orders';
import { requireUser, userOf } from './auth';
import { rateLimit } from './middleware';
import { createOrderBody, idempotencyKey, orderIdParam, type CheckoutResponse, type OrderResponse, type OrdersResponse } from './schemas';
import { parse } from './validate';

export function orderRoutes(deps: CheckoutDeps, auth: Pick<AuthDeps, 'store' | 'now'>, limits: { ordersPerMinute: number }): Router {
  const r = express.Router();
  r.use(requireUser(auth));

  r.post('/', rateLimit('orders', limits.ordersPerMinute, deps.now), async (req, res) => {
    const body = parse(createOrderBody, req.body);
    const keyHeader = req.get('Idempotency-Key');
    const key = keyHeader === undefined ? null : parse(idempotencyKey, keyHeader, 'Idempotency-Key');
    const result = await createOrder(deps, userOf(req), body.items, key);
    if (result.replayed) res.set('Idempotent-Replayed', 'true');
    const response: CheckoutResponse = { order: result.order, payment: result.payment };
    res.status(result.replayed ? 200 : 201).json(response);
  });

  r.get('/', async (req, res) => {
    const response: OrdersResponse = { orders: await listOrders(deps, userOf(req)) };
    res.json(response);
  });

  r.get('/:id', async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const response: OrderResponse = { order: await getOrder(deps, userOf(req), id) };
    res.json(response);
  });

  r.post('/:id/payment', async (req, res) => {
    const id = parse(orderIdParam, req.params.id, 'id');
    const result = await retryPayment(deps, userOf(req), id);
    const response: CheckoutResponse = { order: result.order, payment: result.payment };
    res.json(response);
  });
  return r;
}

// Checkout use cases: price the cart, save the order, obtain a prepay_id, hand out the
// signed wx.requestPayment fields; and read an order back, asking WeChat Pay when pending.
import crypto from 'node:crypto';
import type { Store, User } from '../storage/port';
import { WechatPayApiError, type WechatPayClient } from '../wechatpay/client';
import { signRequestPayment, type Merchant, type RequestPaymentParams } from '../wechatpay/merchant';
import { randomNonce } from '../wechatpay/crypto';
import { AppError, DuplicateKeyError, invalid, notFound } from './errors';
import { lineTotal } from './money';
import { toOrderView, type Order, type OrderLine, type OrderView, type PaymentAttempt } from './order';
import { applyPaymentSucceeded, paymentSucceededFrom, type PaymentEventDeps } from './payment-events';

/** prepay_id lives 2 hours; stop handing it out 10 minutes before that. */
export const PREPAY_TTL_MS = 2 * 3600_000;
export const PREPAY_MARGIN_MS = 10 * 60_000;

export interface CheckoutDeps extends PaymentEventDeps {
  wechatPay: WechatPayClient;
  merchant: Merchant;
  payWindowMs: number;
  queryThrottleMs: number;
  /** Per-process memory of when each order was last queried at WeChat Pay. */
  queryThrottle: Map<string, number>;
}

export interface CartItem {
  sku: string;
  quantity: number;
}

export interface CheckoutResult {
  order: OrderView;
  payment: RequestPaymentParams;
  replayed: boolean;
}

/** RFC 3339 in Beijing time, as WeChat documents time_expire. */
export function beijingTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000 + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

/** 6–32 chars of [0-9A-Za-z_-|*]: date prefix for humans, random tail for uniqueness. */
export function newOutTradeNo(now: number): string {
  return `${beijingTime(now).slice(0, 10).replaceAll('-', '')}${randomNonce(18)}`;
}

function describe(lines: OrderLine[]): string {
  const first = lines[0]!;
  const count = lines.reduce((n, l) => n + l.quantity, 0);
  const text = lines.length > 1 ? `${first.name} 等${count}件` : count > 1 ? `${first.name} ×${count}` : first.name;
  return [...text].slice(0, 120).join('');
}

export function cartHash(items: CartItem[]): string {
  const canonical = items.map((i) => `${i.sku}\u0000${i.quantity}`).join('\u0001');
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

async function priceCart(store: Store, items: CartItem[]): Promise<{ lines: OrderLine[]; total: number }> {
  const catalog = new Map((await store.listProducts()).map((p) => [p.sku, p]));
  const seen = new Set<string>();
  const lines = items.map((item, i): OrderLine => {
    const product = catalog.get(item.sku);
    if (!product) throw new AppError('UNKNOWN_SKU', `items[${i}].sku: no product ${JSON.stringify(item.sku)}`, { field: `items[${i}].sku` });
    if (seen.has(item.sku)) throw invalid(`items[${i}].sku`, `${item.sku} appears twice; send one line per sku`);
    seen.add(item.sku);
    if (item.quantity > product.maxQuantity) throw invalid(`items[${i}].quantity`, `at most ${product.maxQuantity} of ${item.sku}`);
    return { sku: product.sku, name: product.name, unitPrice: product.price, quantity: item.quantity, lineTotal: lineTotal(product.price, item.quantity) };
  });
  const total = lines.reduce((sum, l) => sum + l.lineTotal, 0);
  if (total <= 0) throw invalid('items', 'the order total must be more than 0');
  return { lines, total };
}

function jsapiBody(deps: CheckoutDeps, order: Pick<Order, 'description' | 'total' | 'payDeadline'>, outTradeNo: string, openid: string): string {
  return JSON.stringify({
    appid: deps.merchant.appid,
    mchid: deps.merchant.mchid,
    description: order.description,
    out_trade_no: outTradeNo,
    time_expire: beijingTime(order.payDeadline),
    notify_url: deps.merchant.notifyUrl,
    amount: { total: order.total, currency: 'CNY' },
    payer: { openid },
  });
}

function newPaymentAttempt(deps: CheckoutDeps, order: Order, outTradeNo: string, openid: string, now: number): PaymentAttempt {
  return { outTradeNo, orderId: order.id, requestBody: jsapiBody(deps, order, outTradeNo, openid), prepayId: null, prepayExpiresAt: null, createdAt: now };
}

export async function createOrder(deps: CheckoutDeps, user: User, items: CartItem[], idempotencyKey: string | null): Promise<CheckoutResult> {
  const requestHash = cartHash(items);
  if (idempotencyKey) {
    const existing = await deps.store.findOrderByIdempotencyKey(user.id, idempotencyKey);
    if (existing) return replay(deps, user, existing, requestHash);
  }
  const { lines, total } = await priceCart(deps.store, items);
  const now = deps.now();
  const outTradeNo = newOutTradeNo(now);
  const order: Order = {
    id: `ord_${crypto.randomUUID().replaceAll('-', '')}`,
    userId: user.id,
    lines,
    total,
    currency: 'CNY',
    description: describe(lines),
    status: 'PENDING',
    outTradeNo,
    payDeadline: now + deps.payWindowMs,
    idempotencyKey,
    requestHash,
    transactionId: null,
    paidAt: null,
    closedAt: null,
    paidAfterClose: false,
    createdAt: now,
    updatedAt: now,
  };
  const attempt = newPaymentAttempt(deps, order, outTradeNo, user.openid, now);
  try {
    // Saved before calling out: if WeChat Pay fails, the order is there for a retry.
    await deps.store.insertOrder(order, attempt);
  } catch (err) {
    if (err instanceof DuplicateKeyError && err.index === 'idempotency_key' && idempotencyKey) {
      const winner = await deps.store.findOrderByIdempotencyKey(user.id, idempotencyKey);
      if (winner) return replay(deps, user, winner, requestHash);
    }
    throw err;
  }
  const payment = await withOrderId(order.id, preparePayment(deps, user, order));
  return { order: toOrderView((await deps.store.findOrder(order.id)) ?? order), payment, replayed: false };
}

/** A failure after the order was saved names the order, so the caller can retry it. */
async function withOrderId<T>(orderId: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, err.message, { ...err.details, orderId });
    throw err;
  }
}

async function replay(deps: CheckoutDeps, user: User, existing: Order, requestHash: string): Promise<CheckoutResult> {
  if (existing.requestHash !== requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different cart; use a new key for a new order');
  }
  const payment = await withOrderId(existing.id, preparePayment(deps, user, existing));
  return { order: toOrderView(existing), payment, replayed: true };
}

export async function ownOrder(store: Store, user: User, id: string): Promise<Order> {
  const order = await store.findOrder(id);
  // Another user's order is indistinguishable from a missing one.
  if (!order || order.userId !== user.id) throw notFound('order');
  return order;
}

/** Fresh wx.requestPayment fields for the order's current attempt (the Retry button). */
export async function retryPayment(deps: CheckoutDeps, user: User, orderId: string): Promise<CheckoutResult> {
  const order = await ownOrder(deps.store, user, orderId);
  const payment = await preparePayment(deps, user, order);
  return { order: toOrderView((await deps.store.findOrder(order.id)) ?? order), payment, replayed: false };
}

function assertPayable(deps: CheckoutDeps, order: Order): void {
  if (order.status === 'PAID') throw new AppError('ORDER_ALREADY_PAID', 'this order is already paid');
  if (order.status === 'CLOSED') throw new AppError('ORDER_CLOSED', 'this order is closed; place a new order');
  if (order.payDeadline <= deps.now()) throw new AppError('ORDER_CLOSED', 'the time to pay this order has passed; place a new order');
}

async function preparePayment(deps: CheckoutDeps, user: User, order: Order): Promise<RequestPaymentParams> {
  assertPayable(deps, order);
  const attempt = await deps.store.findAttempt(order.outTradeNo);
  if (!attempt) throw new AppError('INTERNAL', 'payment attempt missing');
  const now = deps.now();
  if (attempt.prepayId && attempt.prepayExpiresAt !== null && attempt.prepayExpiresAt > now) {
    return signRequestPayment(deps.merchant, attempt.prepayId, now);
  }
  const current = jsapiBody(deps, order, attempt.outTradeNo, user.openid);
  let prepayId: string;
  let outTradeNo = attempt.outTradeNo;
  if (current === attempt.requestBody) {
    try {
      // An identical re-post is allowed and returns a usable prepay_id.
      prepayId = await deps.wechatPay.jsapiPrepay(attempt.requestBody);
    } catch (err) {
      if (!(err instanceof WechatPayApiError) || !/OUT_TRADE_NO_USED|ORDER_?CLOSED/.test(err.wechatCode)) throw err;
      ({ prepayId, outTradeNo } = await newAttempt(deps, user, order, attempt));
    }
  } else {
    // Parameters changed (for example the notify URL): WeChat requires a new out_trade_no.
    ({ prepayId, outTradeNo } = await newAttempt(deps, user, order, attempt));
  }
  await deps.store.setPrepay(outTradeNo, prepayId, deps.now() + PREPAY_TTL_MS - PREPAY_MARGIN_MS);
  return signRequestPayment(deps.merchant, prepayId, deps.now());
}

/** Closes the old out_trade_no at WeChat Pay (so it can never be paid too), then opens a new one. */
async function newAttempt(deps: CheckoutDeps, user: User, order: Order, previous: PaymentAttempt): Promise<{ prepayId: string; outTradeNo: string }> {
  await deps.wechatPay.close(previous.outTradeNo);
  const now = deps.now();
  const outTradeNo = newOutTradeNo(now);
  const attempt = newPaymentAttempt(deps, order, outTradeNo, user.openid, now);
  if (!(await deps.store.replaceAttempt(order.id, previous.outTradeNo, attempt, now))) {
    throw new AppError('WECHATPAY_BUSY', 'the order changed while preparing payment; try again');
  }
  return { prepayId: await deps.wechatPay.jsapiPrepay(attempt.requestBody), outTradeNo };
}

/**
 * Reads an order. While it is pending after a payment attempt, asks WeChat Pay (throttled per
 * order), so the result page confirms promptly even when the notification is late.
 */
export async function getOrder(deps: CheckoutDeps, user: User, id: string): Promise<OrderView> {
  let order = await ownOrder(deps.store, user, id);
  if (order.status === 'PENDING' && (await confirmWithWechatPay(deps, order))) {
    order = (await deps.store.findOrder(order.id)) ?? order;
  }
  return toOrderView(order);
}

async function confirmWithWechatPay(deps: CheckoutDeps, order: Order): Promise<boolean> {
  const now = deps.now();
  const last = deps.queryThrottle.get(order.id) ?? 0;
  if (now - last < deps.queryThrottleMs) return false;
  const attempt = await deps.store.findAttempt(order.outTradeNo);
  if (!attempt?.prepayId) return false; // never offered for payment: nothing to ask
  if (deps.queryThrottle.size > 10_000) deps.queryThrottle.clear();
  deps.queryThrottle.set(order.id, now);
  try {
    const t = await deps.wechatPay.queryByOutTradeNo(order.outTradeNo);
    if (t?.trade_state !== 'SUCCESS') return false;
    const r = await applyPaymentSucceeded(deps, paymentSucceededFrom(t, 'query', now));
    return r.outcome === 'APPLIED' || r.outcome === 'ALREADY_PAID';
  } catch (err) {
    deps.logger.warn({ orderId: order.id, err: (err as Error).message }, 'order query at WeChat Pay failed; showing stored state');
    return false;
  }
}

export async function listOrders(deps: Pick<CheckoutDeps, 'store'>, user: User): Promise<OrderView[]> {
  return (await deps.store.listOrdersByUser(user.id, 50)).map(toOrderView);
}

// Fast tier: placing an order, offering it for payment (Retry included), reading it back; against the
// in-memory store and a fake payment provider, on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { listProducts } from '../../src/domain/browse';
import { SEED_PRODUCTS } from '../../src/domain/catalog';
import { cartHash, createOrder } from '../../src/domain/place-order';
import {
  leaseOwner,
  newPaymentAttempt,
  PREPAY_MARGIN_MS,
  PREPAY_TTL_MS,
  preparePayment,
  retryPayment,
  withOrderId,
} from '../../src/domain/payment-attempts';
import { shipment } from '../store-contract';
import { getOrder, listOrders, ownOrder, toView, viewOrderNow, viewOrders } from '../../src/domain/read-orders';
import { lineTotal } from '../../src/domain/money';
import { fastSystem } from '../support/fakes';

const MUG = { sku: 'MUG-CERAMIC', quantity: 2 };

describe('placing an order', () => {
  it('prices the cart from the catalog, saves the order and its first attempt, and returns the payment fields', async () => {
    const sys = await fastSystem();
    expect((await listProducts(sys.store)).map((p) => p.sku)).toEqual(SEED_PRODUCTS.map((p) => p.sku));
    const user = await sys.shopper();
    const r = await createOrder(sys.checkout, user, [MUG, { sku: 'STICKER-PACK', quantity: 1 }], 'key-1');
    expect(r.order).toMatchObject({ status: 'PENDING', total: 9001, description: '陶瓷马克杯 等3件' });
    expect(r.payment.package).toMatch(/^prepay_id=prepay_T/);
    expect(r.replayed).toBe(false);
    const attempt = (await sys.store.findAttempt(r.order.outTradeNo))!;
    expect(attempt.prepayId).toBe(r.payment.package.slice('prepay_id='.length));
    expect(attempt.prepayExpiresAt).toBe(sys.clock.now() + PREPAY_TTL_MS - PREPAY_MARGIN_MS);
    expect(JSON.parse(attempt.requestBody)).toMatchObject({
      amount: 9001,
      payer: user.openid,
      expiresAt: sys.clock.now() + sys.checkout.payWindowMs,
    });
    // Inserted leased to this checkout, released with the prepay_id: free for reconciliation now.
    expect(await sys.store.claimOrder(r.order.id, 'reconciler', sys.clock.now() + 1000, sys.clock.now())).toBe(true);
    expect(lineTotal(4500, 2)).toBe(9000);
    expect(() => lineTotal(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
  });

  it('refuses an unknown sku, a sku twice, too many of one, and a cart worth nothing, naming the field', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const refused = (items: { sku: string; quantity: number }[]) => createOrder(sys.checkout, user, items, null).catch((e: unknown) => e);
    expect(await refused([{ sku: 'NOPE', quantity: 1 }])).toMatchObject({ code: 'UNKNOWN_SKU', details: { field: 'items[0].sku' } });
    expect(await refused([MUG, MUG])).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'items[1].sku' } });
    expect(await refused([{ sku: 'MUG-CERAMIC', quantity: 11 }])).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/at most 10/),
    });
    expect(await sys.store.listOrdersByUser(user.id, 10)).toEqual([]);
  });

  it('gives back the same order for a replayed Idempotency-Key, and refuses the key for another cart', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const [a, b] = await Promise.all([createOrder(sys.checkout, user, [MUG], 'k'), createOrder(sys.checkout, user, [MUG], 'k')]);
    expect(a.order.id).toBe(b.order.id);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(await createOrder(sys.checkout, user, [{ ...MUG, quantity: 1 }], 'k').catch((e: unknown) => e)).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(cartHash([MUG])).not.toBe(cartHash([{ ...MUG, quantity: 1 }]));
    expect(await sys.store.listOrdersByUser(user.id, 10)).toHaveLength(1);
  });

  it("keeps the order when the provider fails, and names it so the shopper's Retry can pay it", async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    sys.provider.failNext('prepare', 'UNREACHABLE');
    const err = (await createOrder(sys.checkout, user, [MUG], null).catch((e: unknown) => e)) as {
      code: string;
      details: { orderId: string };
    };
    expect(err.code).toBe('WECHATPAY_UNREACHABLE');
    const orderId = err.details.orderId;
    expect((await sys.store.findOrder(orderId))?.status).toBe('PENDING');
    const retried = await retryPayment(sys.checkout, user, orderId);
    expect(retried.payment.package).toMatch(/^prepay_id=/);
    await expect(withOrderId('ord_x', Promise.reject(new Error('plain')))).rejects.toThrow('plain');
  });
});

describe('Retry: fresh payment fields for the same order', () => {
  /** A shop whose orders can be paid for longer than a prepay_id lives (2 hours). */
  const longWindow = async () => {
    const sys = await fastSystem();
    sys.checkout.payWindowMs = 6 * 3600_000;
    return sys;
  };
  it('signs a live prepay_id again without calling the provider; re-posts the same request once it has expired', async () => {
    const sys = await longWindow();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [MUG], null);
    const prepares = () => sys.provider.calls.filter((c) => c.call === 'prepare').length;
    expect(prepares()).toBe(1);
    await retryPayment(sys.checkout, user, order.id);
    expect(prepares()).toBe(1);
    sys.clock.advance(PREPAY_TTL_MS);
    const later = await retryPayment(sys.checkout, user, order.id);
    expect(prepares()).toBe(2);
    expect(later.order.outTradeNo).toBe(order.outTradeNo); // the same attempt, re-posted unchanged
  });

  it('closes an attempt the provider will not take again and opens a new one', async () => {
    const sys = await longWindow();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [MUG], null);
    sys.clock.advance(PREPAY_TTL_MS);
    sys.provider.failNext('prepare', 'REFERENCE_UNUSABLE');
    const r = await retryPayment(sys.checkout, user, order.id);
    expect(r.order.outTradeNo).not.toBe(order.outTradeNo);
    expect(sys.provider.trades.get(order.outTradeNo)?.state).toBe('CLOSED');
    expect((await sys.store.listAttempts(order.id)).map((a) => a.outTradeNo)).toEqual([order.outTradeNo, r.order.outTradeNo]);
    // A new attempt carries the order's terms under the new reference.
    expect(
      JSON.parse(newPaymentAttempt(sys.checkout, (await sys.store.findOrder(order.id))!, 'X1', user.openid, 1).requestBody),
    ).toMatchObject({ reference: 'X1', amount: 9000 });
  });

  it('takes a payment the provider already has (the notification was lost) and says the order is paid', async () => {
    const sys = await longWindow();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [MUG], null);
    sys.provider.pay(order.outTradeNo);
    sys.clock.advance(PREPAY_TTL_MS);
    expect(await retryPayment(sys.checkout, user, order.id).catch((e: unknown) => e)).toMatchObject({ code: 'ORDER_ALREADY_PAID' });
    expect((await sys.store.findOrder(order.id))?.status).toBe('PAID');
    expect(await retryPayment(sys.checkout, user, order.id).catch((e: unknown) => e)).toMatchObject({ code: 'ORDER_ALREADY_PAID' });
  });

  it('refuses a closed order or one past its deadline', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [MUG], null);
    sys.clock.advance(sys.checkout.payWindowMs);
    expect(await retryPayment(sys.checkout, user, order.id).catch((e: unknown) => e)).toMatchObject({ code: 'ORDER_CLOSED' });
    await sys.store.markClosed(order.id, sys.clock.now());
    expect(await retryPayment(sys.checkout, user, order.id).catch((e: unknown) => e)).toMatchObject({
      code: 'ORDER_CLOSED',
      message: expect.stringMatching(/closed/),
    });
  });

  it('waits for another holder of the order, then gives up saying so', async () => {
    const sys = await longWindow();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [MUG], null);
    sys.clock.advance(PREPAY_TTL_MS); // no live prepay_id: the provider must be called, under the lease
    const now = sys.clock.now();
    expect(await sys.store.claimOrder(order.id, leaseOwner(), now + 60_000, now)).toBe(true);
    const started = sys.clock.now();
    expect(await preparePayment(sys.checkout, user, (await sys.store.findOrder(order.id))!).catch((e: unknown) => e)).toMatchObject({
      code: 'WECHATPAY_BUSY',
    });
    expect(sys.clock.now() - started).toBeGreaterThanOrEqual(15_000); // it waited on the injected sleep, in no real time
  });
});

describe('reading orders back', () => {
  it('asks the provider about a pending order that was offered for payment, throttled per order', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [MUG], null);
    sys.provider.pay(order.outTradeNo);
    expect((await getOrder(sys.checkout, user, order.id)).status).toBe('PAID');
    const other = await createOrder(sys.checkout, user, [{ sku: 'STICKER-PACK', quantity: 1 }], null);
    await getOrder(sys.checkout, user, other.order.id);
    const queries = () => sys.provider.calls.filter((c) => c.call === 'query' && c.reference === other.order.outTradeNo).length;
    await getOrder(sys.checkout, user, other.order.id);
    expect(queries()).toBe(1);
    sys.clock.advance(sys.checkout.queryThrottleMs);
    sys.provider.failNext('query', 'UNREACHABLE');
    expect((await getOrder(sys.checkout, user, other.order.id)).status).toBe('PENDING'); // the stored state, and a warning
    expect(sys.logger.at('warn')).toContain('order query at WeChat Pay failed; showing stored state');
  });

  it("lists the shopper's orders newest first, and hides another shopper's order as missing", async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const stranger = await sys.shopper();
    const a = await createOrder(sys.checkout, user, [MUG], null);
    sys.clock.advance(1000);
    const b = await createOrder(sys.checkout, user, [{ sku: 'STICKER-PACK', quantity: 3 }], null);
    expect((await listOrders(sys.checkout, user)).map((o) => o.id)).toEqual([b.order.id, a.order.id]);
    await expect(getOrder(sys.checkout, stranger, a.order.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ownOrder(sys.store, stranger, a.order.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const stored = (await sys.store.findOrder(a.order.id))!;
    expect(await viewOrders(sys.store, [stored])).toEqual([await viewOrderNow(sys.store, stored)]);
  });

  it("shows a shipment only on a paid order's view", async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order: placed } = await createOrder(sys.checkout, user, [MUG], null);
    const order = (await sys.store.findOrder(placed.id))!;
    const records = { order, payments: [], refunds: [], shipment: shipment(order.id) };
    expect(toView(records).shipment).toBeNull();
    expect(toView({ ...records, order: { ...order, status: 'PAID' } }).shipment).not.toBeNull();
  });
});

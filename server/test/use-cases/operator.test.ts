// Fast tier: what the operator sees (one order's whole story, pages of orders), and the bounded logs of
// refused notifications and shipping reminders.
import { describe, expect, it } from 'vitest';
import { adminListOrders, adminOrder } from '../../src/domain/admin';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { createOrder } from '../../src/domain/place-order';
import { listOrders } from '../../src/domain/read-orders';
import { createRefusalLog, createRefusalSampler } from '../../src/domain/refusals';
import { createReminderLog } from '../../src/domain/reminders';
import { fastSystem } from '../support/fakes';

describe('the operator', () => {
  it("sees one order's attempts (without the request body), payments, notifications and refunds", async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
    await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
    const d = await adminOrder(sys.store, order.id);
    expect(d.order).toMatchObject({ id: order.id, status: 'PAID', userId: user.id, reviewReason: null });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).not.toHaveProperty('requestBody');
    expect(d.payments).toHaveLength(1);
    await expect(adminOrder(sys.store, 'ord_missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('pages through orders newest first, each page saying where the next begins', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    for (let i = 0; i < 5; i++) {
      await createOrder(sys.checkout, user, [{ sku: 'STICKER-PACK', quantity: i + 1 }], null);
      sys.clock.advance(1000);
    }
    const first = await adminListOrders(sys.store, { limit: 3 });
    expect(first.orders).toHaveLength(3);
    const second = await adminListOrders(sys.store, { limit: 3, before: first.next! });
    expect(second.orders).toHaveLength(2);
    expect(second.next).toBeNull();
    expect([...first.orders, ...second.orders].map((o) => o.total)).toEqual([5, 4, 3, 2, 1]);
  });

  it("reads a page of orders in the same number of store calls whatever the page's size (shopper's and operator's)", async () => {
    const calls = async (n: number) => {
      const sys = await fastSystem();
      const user = await sys.shopper();
      for (let i = 0; i < n; i++) {
        const { order } = await createOrder(sys.checkout, user, [{ sku: 'STICKER-PACK', quantity: i + 1 }], null);
        if (i % 2) await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
      }
      let count = 0;
      const store = new Proxy(sys.store, {
        get(t, p, r) {
          const v = Reflect.get(t, p, r);
          if (typeof v !== 'function') return v;
          return (...a: unknown[]) => {
            count++;
            return v.apply(t, a);
          };
        },
      });
      const shopper = (await listOrders({ store }, user)).length;
      const forShopper = count;
      count = 0;
      const operator = (await adminListOrders(store, { limit: 50 })).orders.length;
      return { shopper, forShopper, operator, forOperator: count };
    };
    const few = await calls(2);
    const many = await calls(30);
    expect([few.shopper, many.shopper, few.operator, many.operator]).toEqual([2, 30, 2, 30]);
    expect(many.forShopper).toBe(few.forShopper);
    expect(many.forOperator).toBe(few.forOperator);
    expect(few.forShopper).toBeLessThanOrEqual(2);
  });

  it('counts every refused delivery but writes only a sample of each reason per minute', async () => {
    const sys = await fastSystem();
    const log = createRefusalLog({ store: sys.store, logger: sys.logger, now: sys.clock.now, samplePerMinute: 2 });
    const refusal = (reason: string) => ({
      receivedAt: sys.clock.now(),
      reason,
      serial: 'S'.repeat(100),
      requestId: null,
      bodySha256: 'x',
    });
    for (let i = 0; i < 5; i++) await log.note(refusal('BAD_SIGNATURE'));
    await log.note(refusal('STALE'));
    expect(log.counts()).toEqual({ BAD_SIGNATURE: 5, STALE: 1 });
    expect(await sys.store.countRejectedNotifications()).toBe(3);
    expect(sys.logger.at('warn').filter((m) => m === 'notification rejected')).toHaveLength(3);
    sys.clock.advance(60_000);
    await log.note(refusal('STALE'));
    expect(sys.logger.lines.find((l) => l.message.startsWith('refused notification deliveries not logged'))?.fields).toEqual({
      unlogged: 3,
    });
  });

  it('samples refusals of any kind: every one counted, a few per reason and minute let through to the log', async () => {
    const sys = await fastSystem();
    const sampler = createRefusalSampler({ logger: sys.logger, now: sys.clock.now, what: 'message pushes', samplePerMinute: 3 });
    const let_through = Array.from({ length: 10 }, () => sampler.sample('REPLAY')).filter(Boolean).length;
    expect(let_through).toBe(3);
    expect(sampler.sample('STALE')).toBe(true);
    expect(sampler.counts()).toEqual({ REPLAY: 10, STALE: 1 });
    sys.clock.advance(60_000);
    expect(sampler.sample('REPLAY')).toBe(true); // a new minute, a new sample
    expect(sys.logger.at('warn')).toContain('refused message pushes not logged last minute (counted by reason)');
  });

  it("keeps WeChat's newest shipping reminders, to a bound", () => {
    const reminders = createReminderLog(2);
    for (const n of ['A', 'B', 'C']) reminders.add({ merchantTradeNo: n, transactionId: 't', orderId: null, receivedAt: 1 });
    expect(reminders.recent().map((r) => r.merchantTradeNo)).toEqual(['C', 'B']);
  });
});

// Fast tier: a reconciliation round — pending orders, refunds and shipments — and the reconciler's loop.
import { describe, expect, it } from 'vitest';
import { createOrder } from '../../src/domain/place-order';
import { reconcileOnce, startReconciler } from '../../src/domain/reconcile';
import { shipOrder } from '../../src/domain/fulfilment';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { fastSystem, type FastSystem } from '../support/fakes';

const round = (sys: FastSystem) => reconcileOnce({ ...sys.checkout, minAgeMs: 60_000, fulfilment: sys.fulfilment, owner: 'test-round' });

async function pending(sys: FastSystem) {
  const user = await sys.shopper();
  return (await createOrder(sys.checkout, user, [{ sku: 'DRIP-BAGS-10', quantity: 1 }], null)).order;
}

describe('a reconciliation round', () => {
  it('takes a payment whose notification never came, and leaves young orders to the shopper', async () => {
    const sys = await fastSystem();
    const order = await pending(sys);
    sys.provider.pay(order.outTradeNo);
    expect((await round(sys)).examined).toBe(0); // younger than minAgeMs
    sys.clock.advance(60_000);
    expect(await round(sys)).toMatchObject({ examined: 1, paid: 1, errors: 0 });
    expect((await sys.store.findOrder(order.id))?.status).toBe('PAID');
  });

  it('closes an overdue order at the provider first, then here; one paid at the last moment is taken instead', async () => {
    const sys = await fastSystem();
    const overdue = await pending(sys);
    sys.clock.advance(1); // strictly older: rounds take the oldest first
    const lastMoment = await pending(sys);
    sys.clock.advance(sys.checkout.payWindowMs);
    sys.provider.pay(lastMoment.outTradeNo);
    sys.provider.failNext('query', 'UNREACHABLE'); // the first query (of the older order) fails once…
    const first = await round(sys);
    expect(first).toMatchObject({ examined: 2, errors: 1, paid: 1 });
    expect(sys.logger.at('warn')).toContain('reconciliation of an order failed; will try again next round');
    const second = await round(sys); // …and the next round closes it
    expect(second).toMatchObject({ closed: 1 });
    expect(sys.provider.trades.get(overdue.outTradeNo)?.state).toBe('CLOSED');
    expect((await sys.store.findOrder(overdue.id))?.status).toBe('CLOSED');
  });

  it('skips an order another instance holds', async () => {
    const sys = await fastSystem();
    const order = await pending(sys);
    sys.clock.advance(60_000);
    await sys.store.claimOrder(order.id, 'another-instance', sys.clock.now() + 30_000, sys.clock.now());
    expect(await round(sys)).toMatchObject({ examined: 0 });
    sys.clock.advance(30_001);
    expect(await round(sys)).toMatchObject({ examined: 1 });
  });

  it('sends a shipment again that WeChat could not take, and follows accepted ones', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
    await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
    sys.shipping.failUploads(-1);
    expect((await shipOrder(sys.fulfilment, order.id, { logisticsType: 'virtual', packages: [] })).shipment.upload).toBe('PENDING');
    expect((await round(sys)).shipments).toMatchObject({ examined: 1, uploaded: 1 });
    sys.shipping.states.set(order.outTradeNo, { state: 'COMPLETED', wechatState: 4 });
    expect((await round(sys)).shipments).toMatchObject({ examined: 1, moved: 1 });
    expect((await round(sys)).shipments).toMatchObject({ examined: 0 });
  });

  it('runs rounds on request without overlapping them, and stops', async () => {
    const sys = await fastSystem();
    const reports: unknown[] = [];
    const r = startReconciler({ ...sys.checkout, minAgeMs: 0 }, 0, (report) => reports.push(report));
    const [a, b] = await Promise.all([r.runNow(), r.runNow()]);
    expect(a).toBe(b); // the second joined the running round
    await r.runNow();
    expect(reports).toHaveLength(2);
    await r.stop();
  });
});

// Fast tier: refunds — what may go back, asking the provider, applying what it reports.
import { describe, expect, it } from 'vitest';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { createOrder } from '../../src/domain/place-order';
import { applyRefundReport, paymentsOf, reconcileRefunds, requestRefund } from '../../src/domain/refunds';
import { fastSystem, type FastSystem } from '../support/fakes';

async function paidOrder(sys: FastSystem) {
  const user = await sys.shopper();
  const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 2 }], null);
  await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
  return (await sys.store.findOrder(order.id))!;
}

describe('refunds', () => {
  it('refunds part, then the rest, and no more; each settled as the provider reports', async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    const a = await requestRefund(sys.checkout, order.id, { amount: 3000, reason: '破损' }, 'r1');
    expect(a.refund).toMatchObject({ status: 'SUCCESS', amount: 3000, reason: '破损' });
    await requestRefund(sys.checkout, order.id, { amount: 6000, reason: null }, 'r2');
    expect(await requestRefund(sys.checkout, order.id, { amount: 1, reason: null }, 'r3').catch((e: unknown) => e)).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/at most 0 fen/),
    });
    expect(sys.provider.refunds.size).toBe(2);
  });

  it('answers a replayed Idempotency-Key with the first refund, and refuses it for another refund', async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    const [x, y] = await Promise.all([
      requestRefund(sys.checkout, order.id, { amount: 1000, reason: null }, 'same'),
      requestRefund(sys.checkout, order.id, { amount: 1000, reason: null }, 'same'),
    ]);
    expect(x.refund.id).toBe(y.refund.id);
    expect([x.replayed, y.replayed].sort()).toEqual([false, true]);
    expect(await requestRefund(sys.checkout, order.id, { amount: 2000, reason: null }, 'same').catch((e: unknown) => e)).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('refuses an order with nothing paid, or a payment that is not the order’s', async () => {
    const sys = await fastSystem();
    const user = await sys.shopper();
    const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
    expect(await requestRefund(sys.checkout, order.id, { amount: 1, reason: null }, null).catch((e: unknown) => e)).toMatchObject({
      code: 'ORDER_NOT_PAID',
    });
    const paid = await paidOrder(sys);
    expect(
      await requestRefund(sys.checkout, paid.id, { amount: 1, reason: null, transactionId: 'nope' }, null).catch((e: unknown) => e),
    ).toMatchObject({
      details: { field: 'transactionId' },
    });
    await expect(requestRefund(sys.checkout, 'ord_missing', { amount: 1, reason: null }, null)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('closes a refund the provider refuses and gives its amount back; leaves one it could not reach for reconciliation', async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    sys.provider.failNext('refund', 'REJECTED');
    expect(await requestRefund(sys.checkout, order.id, { amount: 9000, reason: null }, null).catch((e: unknown) => e)).toMatchObject({
      code: 'WECHATPAY_REJECTED',
    });
    const [closed] = await sys.store.listRefunds(order.id);
    expect(closed).toMatchObject({ status: 'CLOSED', failure: expect.stringMatching(/^FAKE_REJECTED/) });
    sys.provider.failNext('refund', 'UNREACHABLE');
    const { refund } = await requestRefund(sys.checkout, order.id, { amount: 9000, reason: null }, null);
    expect(refund.status).toBe('PROCESSING');
    // Reconciliation: the provider never received it, so it is submitted again, and settles.
    sys.clock.advance(60_000);
    expect(await reconcileRefunds({ ...sys.checkout, minAgeMs: 0 })).toMatchObject({ examined: 1, resubmitted: 1, errors: 0 });
    expect((await sys.store.findRefund(refund.outRefundNo))?.status).toBe('SUCCESS');
  });

  it('settles a PROCESSING refund from a query, and never applies a report of another amount', async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    sys.provider.refundsEnd = 'PROCESSING';
    const { refund } = await requestRefund(sys.checkout, order.id, { amount: 500, reason: null }, null);
    const report = sys.provider.refunds.get(refund.outRefundNo)!;
    expect(await applyRefundReport(sys.checkout, { ...report, amount: 499 }, 'notification')).toMatchObject({ outcome: 'AMOUNT_MISMATCH' });
    expect(await applyRefundReport(sys.checkout, { ...report, outRefundNo: 'nope' }, 'notification')).toMatchObject({
      outcome: 'UNKNOWN_REFUND',
    });
    report.status = 'SUCCESS';
    expect(await reconcileRefunds({ ...sys.checkout, minAgeMs: 0 })).toMatchObject({ settled: 1 });
    expect(await applyRefundReport(sys.checkout, report, 'notification')).toMatchObject({ outcome: 'REFUND_UNCHANGED' });
  });

  it("repairs the record of an order's paying transaction if a crash left it out", async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    const records = sys.store as unknown as { listPayments: typeof sys.store.listPayments };
    const original = records.listPayments;
    let calls = 0;
    records.listPayments = async (id) => (calls++ === 0 ? [] : original(id)); // as if the record were missing once
    const payments = await paymentsOf(sys.checkout, order);
    records.listPayments = original;
    expect(payments).toMatchObject([{ transactionId: order.transactionId, kind: 'ORDER', amount: 9000 }]);
  });
});

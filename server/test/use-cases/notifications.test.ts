// Fast tier: a payment notification from delivery to recorded outcome, and the one normalized event
// every path (notification, query, reconciliation) goes through.
import { describe, expect, it } from 'vitest';
import { createOrder } from '../../src/domain/place-order';
import { applyPaymentSucceeded, recordPayment } from '../../src/domain/payment-events';
import { receiveNotification } from '../../src/domain/receive-notification';
import { requestRefund } from '../../src/domain/refunds';
import { fastSystem, type FastSystem } from '../support/fakes';

async function pendingOrder(sys: FastSystem) {
  const user = await sys.shopper();
  const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
  return order;
}

describe('receiving a payment notification', () => {
  it('moves the order to PAID once, recording the payment and the notification with it; repeats are answered as the first', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    const payment = sys.provider.pay(order.outTradeNo);
    const delivery = sys.provider.notification({ id: 'n-1', eventType: 'TRANSACTION.SUCCESS', kind: 'PAYMENT_SUCCEEDED', payment });
    expect(await receiveNotification(sys.notify, delivery)).toEqual({
      kind: 'RECORDED',
      id: 'n-1',
      outcome: 'APPLIED',
      settled: true,
      duplicate: false,
    });
    expect(await sys.store.findOrder(order.id)).toMatchObject({ status: 'PAID', transactionId: payment.transactionId });
    expect(await sys.store.listPayments(order.id)).toMatchObject([{ kind: 'ORDER', amount: 4500 }]);
    expect(await sys.store.findNotification('n-1', order.outTradeNo)).toMatchObject({
      outcome: 'APPLIED',
      requestId: 'req-n-1',
      deliveries: 1,
    });
    const again = await receiveNotification(sys.notify, delivery);
    expect(again).toMatchObject({ outcome: 'APPLIED', settled: true, duplicate: true });
    expect(await sys.store.findNotification('n-1', order.outTradeNo)).toMatchObject({ deliveries: 2 });
  });

  it('refuses a forged delivery, noting the refusal and changing nothing', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    const payment = sys.provider.pay(order.outTradeNo);
    const forged = sys.provider.notification(
      { id: 'n-2', eventType: 'TRANSACTION.SUCCESS', kind: 'PAYMENT_SUCCEEDED', payment },
      { forged: true },
    );
    expect(await receiveNotification(sys.notify, forged)).toMatchObject({
      kind: 'REFUSED',
      refusal: { reason: 'BAD_SIGNATURE', unauthentic: true },
    });
    expect((await sys.store.findOrder(order.id))?.status).toBe('PENDING');
    expect(sys.notify.refusals.counts()).toEqual({ BAD_SIGNATURE: 1 });
    expect(await sys.store.countRejectedNotifications()).toBe(1);
  });

  it('signed by a key the adapter does not hold yet: fetches the keys once and applies it; a key nobody published is refused', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    const payment = sys.provider.pay(order.outTradeNo);
    const n = { id: 'n-rot', eventType: 'TRANSACTION.SUCCESS', kind: 'PAYMENT_SUCCEEDED' as const, payment };
    // A key nobody published (a stranger): refused as unauthentic, after one fetch.
    expect(await receiveNotification(sys.notify, sys.provider.notification(n, { key: 'stranger' }))).toMatchObject({
      kind: 'REFUSED',
      refusal: { reason: 'UNKNOWN_KEY', unauthentic: true },
    });
    expect((await sys.store.findOrder(order.id))?.status).toBe('PENDING');
    // The provider rotates: the new key is listed, and the first message it signs is applied.
    sys.provider.publishedKeys.add('k2');
    expect(await receiveNotification(sys.notify, sys.provider.notification(n, { key: 'k2' }))).toMatchObject({
      kind: 'RECORDED',
      outcome: 'APPLIED',
    });
    expect((await sys.store.findOrder(order.id))?.status).toBe('PAID');
    expect(sys.provider.calls.filter((c) => c.call === 'refreshKeys').map((c) => c.reference)).toEqual(['stranger', 'k2']);
  });

  it('never moves an order for the wrong amount or payee: it is flagged for the operator once', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    const wrong = sys.provider.pay(order.outTradeNo, { amount: 1 });
    const r = await receiveNotification(
      sys.notify,
      sys.provider.notification({ id: 'n-3', eventType: 'TRANSACTION.SUCCESS', kind: 'PAYMENT_SUCCEEDED', payment: wrong }),
    );
    expect(r).toMatchObject({ outcome: 'AMOUNT_MISMATCH', settled: true });
    expect(await sys.store.findOrder(order.id)).toMatchObject({
      status: 'PENDING',
      reviewReason: 'AMOUNT_MISMATCH: expected 4500 CNY, reported 1 CNY',
    });
    const other = await pendingOrder(sys);
    const foreign = sys.provider.pay(other.outTradeNo, { payee: { appId: 'wxsomeoneelse00000', merchantId: '1900000109' } });
    expect(await applyPaymentSucceeded(sys.checkout, foreign, 'query')).toMatchObject({ outcome: 'APPID_MISMATCH' });
    const third = await pendingOrder(sys);
    const mch = sys.provider.pay(third.outTradeNo, { payee: { ...sys.provider.payee, merchantId: '1' } });
    expect(await applyPaymentSucceeded(sys.checkout, mch, 'query')).toMatchObject({ outcome: 'MCHID_MISMATCH' });
    expect(sys.logger.at('error')).toContain('payment report cannot be applied: order flagged for review');
  });

  it('answers an unknown order so the provider retries, then applies it once the order exists', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    const payment = sys.provider.pay(order.outTradeNo);
    const unknown = sys.provider.notification({
      id: 'n-4',
      eventType: 'TRANSACTION.SUCCESS',
      kind: 'PAYMENT_SUCCEEDED',
      payment: { ...payment, reference: 'NOT-OURS' },
    });
    expect(await receiveNotification(sys.notify, unknown)).toMatchObject({ outcome: 'UNKNOWN_ORDER', settled: false });
    expect(
      await receiveNotification(
        sys.notify,
        sys.provider.notification({ id: 'n-9', eventType: 'TRANSACTION.SUCCESS', kind: 'PAYMENT_SUCCEEDED', payment }),
      ),
    ).toMatchObject({
      outcome: 'APPLIED',
    });
  });

  it('keeps a second payment, and a payment after the order closed, on record as money to give back', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    const first = sys.provider.pay(order.outTradeNo);
    await applyPaymentSucceeded(sys.checkout, first, 'notification');
    const second = { ...first, transactionId: '4200000000000000000000000999' };
    expect(await applyPaymentSucceeded(sys.checkout, second, 'notification')).toMatchObject({
      outcome: 'ALREADY_PAID',
      detail: expect.stringMatching(/needs a refund/),
    });
    expect((await sys.store.listPayments(order.id)).map((p) => p.kind)).toEqual(['ORDER', 'DUPLICATE']);
    const closed = await pendingOrder(sys);
    await sys.store.markClosed(closed.id, sys.clock.now());
    const late = sys.provider.pay(closed.outTradeNo);
    expect(await applyPaymentSucceeded(sys.checkout, late, 'reconcile')).toMatchObject({ outcome: 'PAID_AFTER_CLOSE' });
    expect((await sys.store.findOrder(closed.id))?.status).toBe('CLOSED');
    expect(await sys.store.listPayments(closed.id)).toMatchObject([{ kind: 'AFTER_CLOSE' }]);
    // recordPayment is idempotent per transaction: the same payment again changes nothing.
    await recordPayment(sys.checkout, closed, late, 'AFTER_CLOSE');
    expect(await sys.store.listPayments(closed.id)).toHaveLength(1);
  });

  it('applies a refund report and ignores an event the shop does not act on', async () => {
    const sys = await fastSystem();
    const order = await pendingOrder(sys);
    await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
    sys.provider.refundsEnd = 'PROCESSING';
    const { refund } = await requestRefund(sys.checkout, order.id, { amount: 1000, reason: null }, null);
    const report = { ...sys.provider.refunds.get(refund.outRefundNo)!, status: 'SUCCESS' as const, settledAt: sys.clock.now() };
    const r = await receiveNotification(
      sys.notify,
      sys.provider.notification({ id: 'n-5', eventType: 'REFUND.SUCCESS', kind: 'REFUND_UPDATED', refund: report }),
    );
    expect(r).toMatchObject({ outcome: 'REFUND_APPLIED', settled: true });
    expect((await sys.store.findRefund(refund.outRefundNo))?.status).toBe('SUCCESS');
    const other = await receiveNotification(
      sys.notify,
      sys.provider.notification({
        id: 'n-6',
        eventType: 'TRANSACTION.CLOSED',
        kind: 'OTHER',
        detail: 'closed',
        reference: order.outTradeNo,
        transactionId: null,
      }),
    );
    expect(other).toMatchObject({ outcome: 'IGNORED_EVENT', settled: true });
  });
});

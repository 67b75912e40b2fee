// The domain acts on one small normalized event, whichever way it arrived: a notification, an
// active query from the result page, or reconciliation. One code path marks orders paid.
import type { PaymentSucceeded } from '../payments/port';
import type { PaymentDeps } from './deps';
import type { NotificationOutcome } from './notification';

export type PaymentSource = 'notification' | 'query' | 'reconcile';

export type ApplyOutcome = Exclude<NotificationOutcome, 'IGNORED_EVENT'>;

export interface ApplyResult {
  outcome: ApplyOutcome;
  orderId: string | null;
  detail: string | null;
}

export async function applyPaymentSucceeded(deps: PaymentDeps, e: PaymentSucceeded, source: PaymentSource): Promise<ApplyResult> {
  const attempt = await deps.store.findAttempt(e.reference);
  const order = attempt ? await deps.store.findOrder(attempt.orderId) : null;
  if (!attempt || !order) return { outcome: 'UNKNOWN_ORDER', orderId: null, detail: `no order for out_trade_no ${e.reference}` };
  const result = (outcome: ApplyOutcome, detail: string | null = null): ApplyResult => ({ outcome, orderId: order.id, detail });

  // The official warning against fake notifications: check who and how much before anything moves.
  const payee = deps.provider.payee;
  if (e.payee.appId !== payee.appId) return result('APPID_MISMATCH', `appid ${e.payee.appId}`);
  if (e.payee.merchantId !== payee.merchantId) return result('MCHID_MISMATCH', `mchid ${e.payee.merchantId}`);
  if (e.amount !== order.total || (e.currency ?? 'CNY') !== order.currency) {
    deps.logger.error({ orderId: order.id, expected: order.total, reported: e.amount, currency: e.currency }, 'payment amount mismatch: order not marked paid, needs review');
    return result('AMOUNT_MISMATCH', `expected ${order.total} ${order.currency}, reported ${e.amount} ${e.currency ?? ''}`.trim());
  }
  if (!e.transactionId) return result('AMOUNT_MISMATCH', 'success without transaction_id');

  const update = { transactionId: e.transactionId, paidAt: e.paidAt, outTradeNo: e.reference };
  if (await deps.store.markPaid(order.id, update, deps.now())) {
    deps.logger.info({ orderId: order.id, source }, 'order paid');
    return result('APPLIED');
  }
  const current = await deps.store.findOrder(order.id);
  if (current?.status === 'PAID') {
    const same = current.transactionId === e.transactionId;
    if (!same) deps.logger.error({ orderId: order.id }, 'second payment for an already paid order: refund the later transaction');
    return result('ALREADY_PAID', same ? null : `already paid by ${current.transactionId}; ${e.transactionId} needs a refund`);
  }
  // CLOSED: never reopen; surface it for a refund.
  await deps.store.flagPaidAfterClose(order.id, update, deps.now());
  deps.logger.error({ orderId: order.id, source }, 'payment succeeded for a closed order: refund needed');
  return result('PAID_AFTER_CLOSE', `transaction ${e.transactionId} arrived after the order closed`);
}

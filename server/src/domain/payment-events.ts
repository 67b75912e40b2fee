// The domain acts on one small normalized event, whichever way it arrived: a notification, an
// active query from the result page, or reconciliation. One code path marks orders paid, and every
// successful transaction is kept on record, so money that must go back can be refunded.
import type { PaymentSucceeded } from './ports/payment-provider';
import type { PaymentDeps } from './deps';
import type { NotificationOutcome, NotificationRecord } from './notification';
import type { Order } from './order';
import type { PaymentKind } from './refund';

export type PaymentSource = 'notification' | 'query' | 'reconcile' | 'retry';

export type ApplyOutcome = Exclude<NotificationOutcome, 'IGNORED_EVENT' | 'REFUND_APPLIED' | 'REFUND_UNCHANGED' | 'UNKNOWN_REFUND'>;

export interface ApplyResult {
  outcome: ApplyOutcome;
  orderId: string | null;
  detail: string | null;
}

/** The record a notification would get if its payment is APPLIED, written in the same store write
 *  (so an APPLIED outcome means it was recorded). */
export type NotificationIfApplied = { record: NotificationRecord; replaces: readonly NotificationOutcome[] };

/** Keeps a successful transaction on record (once per transaction id). */
export async function recordPayment(deps: PaymentDeps, order: Pick<Order, 'id'>, e: PaymentSucceeded, kind: PaymentKind): Promise<void> {
  await deps.store.recordPayment({
    transactionId: e.transactionId,
    orderId: order.id,
    outTradeNo: e.reference,
    amount: e.amount!,
    kind,
    paidAt: e.paidAt,
  });
}

export async function applyPaymentSucceeded(
  deps: PaymentDeps,
  e: PaymentSucceeded,
  source: PaymentSource,
  notification?: NotificationIfApplied,
): Promise<ApplyResult> {
  const attempt = await deps.store.findAttempt(e.reference);
  const order = attempt ? await deps.store.findOrder(attempt.orderId) : null;
  if (!attempt || !order) return { outcome: 'UNKNOWN_ORDER', orderId: null, detail: `no order for out_trade_no ${e.reference}` };
  const result = (outcome: ApplyOutcome, detail: string | null = null): ApplyResult => ({ outcome, orderId: order.id, detail });
  /** Something the shop cannot apply: kept for the operator once, and left out of reconciliation. */
  const review = async (outcome: ApplyOutcome, detail: string): Promise<ApplyResult> => {
    if (await deps.store.flagForReview(order.id, `${outcome}: ${detail}`, deps.now())) {
      deps.logger.error({ orderId: order.id, outcome, detail, source }, 'payment report cannot be applied: order flagged for review');
    }
    return result(outcome, detail);
  };

  // The official warning against fake notifications: check who and how much before anything moves.
  const payee = deps.provider.payee;
  if (e.payee.appId !== payee.appId) return review('APPID_MISMATCH', `appid ${e.payee.appId}`);
  if (e.payee.merchantId !== payee.merchantId) return review('MCHID_MISMATCH', `mchid ${e.payee.merchantId}`);
  if (e.amount !== order.total || (e.currency ?? 'CNY') !== order.currency) {
    return review('AMOUNT_MISMATCH', `expected ${order.total} ${order.currency}, reported ${e.amount} ${e.currency ?? ''}`.trim());
  }
  if (!e.transactionId) return review('AMOUNT_MISMATCH', 'success without transaction_id');

  const update = { transactionId: e.transactionId, paidAt: e.paidAt, outTradeNo: e.reference };
  // The transition, the payment's record and the notification's: one write, one commit.
  const payment = {
    transactionId: e.transactionId,
    orderId: order.id,
    outTradeNo: e.reference,
    amount: e.amount!,
    kind: 'ORDER' as const,
    paidAt: e.paidAt,
  };
  if (await deps.store.markPaid(order.id, update, deps.now(), { payment, notification })) {
    deps.logger.info({ orderId: order.id, source }, 'order paid');
    return result('APPLIED');
  }
  const current = await deps.store.findOrder(order.id);
  if (current?.status === 'PAID') {
    const same = current.transactionId === e.transactionId;
    // The same payment again also repairs a record that a crash may have left out.
    await recordPayment(deps, order, e, same ? 'ORDER' : 'DUPLICATE');
    if (!same)
      deps.logger.error(
        { orderId: order.id, transactionId: e.transactionId },
        'second payment for an already paid order: kept on record, refund due',
      );
    return result('ALREADY_PAID', same ? null : `already paid by ${current.transactionId}; ${e.transactionId} needs a refund`);
  }
  // CLOSED: never reopen; keep the payment on record for a refund.
  await recordPayment(deps, order, e, 'AFTER_CLOSE');
  deps.logger.error({ orderId: order.id, transactionId: e.transactionId, source }, 'payment succeeded for a closed order: refund needed');
  return result('PAID_AFTER_CLOSE', `transaction ${e.transactionId} arrived after the order closed`);
}

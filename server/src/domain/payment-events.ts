// The domain acts on one small normalized event, whichever way it arrived: a notification,
// an active query from the result page, or reconciliation. One code path marks orders paid.
import type { Logger } from 'pino';
import type { NotificationOutcome, Store } from '../storage/port';
import type { Transaction } from '../wechatpay/client';

export interface PaymentSucceeded {
  outTradeNo: string;
  transactionId: string;
  appid: string;
  mchid: string;
  amountTotal: number | undefined;
  currency: string | undefined;
  paidAt: number;
  source: 'notification' | 'query' | 'reconcile';
}

export interface PaymentEventDeps {
  store: Store;
  merchant: { appid: string; mchid: string };
  now: () => number;
  logger: Logger;
}

export type ApplyOutcome = Exclude<NotificationOutcome, 'IGNORED_EVENT'>;

export interface ApplyResult {
  outcome: ApplyOutcome;
  orderId: string | null;
  detail: string | null;
}

/** Normalizes a SUCCESS transaction (from a notification or a query) into the event. */
export function paymentSucceededFrom(t: Transaction, source: PaymentSucceeded['source'], now: number): PaymentSucceeded {
  const parsed = t.success_time ? Date.parse(t.success_time) : NaN;
  return {
    outTradeNo: t.out_trade_no,
    transactionId: t.transaction_id ?? '',
    appid: t.appid,
    mchid: t.mchid,
    amountTotal: t.amount?.total,
    currency: t.amount?.currency,
    paidAt: Number.isFinite(parsed) ? parsed : now,
    source,
  };
}

export async function applyPaymentSucceeded(deps: PaymentEventDeps, e: PaymentSucceeded): Promise<ApplyResult> {
  const attempt = await deps.store.findAttempt(e.outTradeNo);
  const order = attempt ? await deps.store.findOrder(attempt.orderId) : null;
  if (!attempt || !order) return { outcome: 'UNKNOWN_ORDER', orderId: null, detail: `no order for out_trade_no ${e.outTradeNo}` };
  const result = (outcome: ApplyOutcome, detail: string | null = null): ApplyResult => ({ outcome, orderId: order.id, detail });

  // The official warning against fake notifications: check who and how much before anything moves.
  if (e.appid !== deps.merchant.appid) return result('APPID_MISMATCH', `appid ${e.appid}`);
  if (e.mchid !== deps.merchant.mchid) return result('MCHID_MISMATCH', `mchid ${e.mchid}`);
  if (e.amountTotal !== order.total || (e.currency ?? 'CNY') !== order.currency) {
    deps.logger.error({ orderId: order.id, expected: order.total, reported: e.amountTotal, currency: e.currency }, 'payment amount mismatch: order not marked paid, needs review');
    return result('AMOUNT_MISMATCH', `expected ${order.total} ${order.currency}, reported ${e.amountTotal} ${e.currency ?? ''}`.trim());
  }
  if (!e.transactionId) return result('AMOUNT_MISMATCH', 'success without transaction_id');

  const update = { transactionId: e.transactionId, paidAt: e.paidAt, outTradeNo: e.outTradeNo };
  if (await deps.store.markPaid(order.id, update, deps.now())) {
    deps.logger.info({ orderId: order.id, source: e.source }, 'order paid');
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
  deps.logger.error({ orderId: order.id, source: e.source }, 'payment succeeded for a closed order: refund needed');
  return result('PAID_AFTER_CLOSE', `transaction ${e.transactionId} arrived after the order closed`);
}

// What happens after a notification has been verified and decrypted.
import type { NotificationOutcome, NotificationRecord } from '../storage/port';
import type { VerifiedNotification } from '../wechatpay/notification';
import { applyPaymentSucceeded, paymentSucceededFrom, type PaymentEventDeps } from './payment-events';

/** Outcomes that a repeat delivery cannot change: answer it at once. */
const SETTLED: ReadonlySet<NotificationOutcome> = new Set(['APPLIED', 'ALREADY_PAID', 'PAID_AFTER_CLOSE', 'AMOUNT_MISMATCH', 'IGNORED_EVENT']);

export interface NotificationAnswer {
  outcome: NotificationOutcome;
  /** 2xx: WeChat stops retrying. 4xx: it retries on its schedule. */
  status: 204 | 400 | 404;
  duplicate: boolean;
}

export async function handleVerifiedNotification(
  deps: PaymentEventDeps,
  n: VerifiedNotification,
  requestId: string | null,
): Promise<NotificationAnswer> {
  const known = await deps.store.findNotification(n.id);
  if (known && SETTLED.has(known.outcome)) {
    await deps.store.recordNotification({ ...known, lastReceivedAt: deps.now() });
    return { outcome: known.outcome, status: 204, duplicate: true };
  }
  const t = n.transaction;
  let outcome: NotificationOutcome = 'IGNORED_EVENT';
  let detail: string | null = `${n.eventType}${t ? ` / ${t.trade_state}` : ''}`;
  if (n.eventType === 'TRANSACTION.SUCCESS' && t?.trade_state === 'SUCCESS') {
    const r = await applyPaymentSucceeded(deps, paymentSucceededFrom(t, 'notification', deps.now()));
    outcome = r.outcome;
    detail = r.detail;
  }
  const now = deps.now();
  const record: NotificationRecord = {
    id: n.id,
    eventType: n.eventType,
    outTradeNo: t?.out_trade_no ?? null,
    transactionId: t?.transaction_id ?? null,
    outcome,
    detail,
    requestId,
    firstReceivedAt: now,
    lastReceivedAt: now,
    deliveries: 1,
  };
  const { duplicate } = await deps.store.recordNotification(record);
  const status = SETTLED.has(outcome) ? 204 : outcome === 'UNKNOWN_ORDER' ? 404 : 400;
  return { outcome, status, duplicate };
}

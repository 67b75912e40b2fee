// A payment notification, from raw delivery to recorded outcome. The provider verifies and reads
// it; the domain decides what it changes and what is recorded. The route maps the answer to HTTP.
import crypto from 'node:crypto';
import type { IncomingNotification, NotificationRefusal } from './ports/payment-provider';
import type { PaymentDeps } from './deps';
import type { RefusalLog } from './refusals';
import { isSettled, outcomesReplacedBy, type NotificationOutcome, type NotificationRecord } from './notification';
import { applyPaymentSucceeded } from './payment-events';
import { applyRefundReport } from './refunds';

export type NotificationAnswer =
  /** Could not be trusted or read: nothing changed. */
  | { kind: 'REFUSED'; refusal: NotificationRefusal }
  /** Verified and recorded. A settled outcome is final: WeChat may stop delivering it. */
  | { kind: 'RECORDED'; id: string; outcome: NotificationOutcome; settled: boolean; duplicate: boolean };

export interface NotifyDeps extends PaymentDeps {
  refusals: RefusalLog;
}

export async function receiveNotification(deps: NotifyDeps, incoming: IncomingNotification): Promise<NotificationAnswer> {
  const requestId = incoming.headers['request-id'] ?? null;
  let parsed = deps.provider.parseNotification(incoming);
  // Signed by a key not held yet (the provider rotated its certificate): fetch the keys once, then read it again.
  const unknownKey = parsed.ok ? undefined : parsed.refusal.unknownKey;
  if (unknownKey && (await deps.provider.refreshKeys?.(unknownKey))) parsed = deps.provider.parseNotification(incoming);
  if (!parsed.ok) {
    const { refusal } = parsed;
    await deps.refusals.note({
      receivedAt: deps.now(),
      reason: refusal.reason,
      serial: incoming.headers['wechatpay-serial'] ?? null,
      requestId,
      bodySha256: crypto.createHash('sha256').update(incoming.body).digest('hex'),
    });
    return { kind: 'REFUSED', refusal };
  }
  const n = parsed.notification;
  const reference = n.kind === 'PAYMENT_SUCCEEDED' ? n.payment.reference : n.kind === 'REFUND_UPDATED' ? n.refund.reference : n.reference;
  // An id names one delivery chain for one order: a settled id reused for another order is processed.
  const known = await deps.store.findNotification(n.id, reference);
  if (known && isSettled(known.outcome)) {
    await deps.store.recordNotification({ ...known, lastReceivedAt: deps.now() }, []);
    return { kind: 'RECORDED', id: n.id, outcome: known.outcome, settled: true, duplicate: true };
  }
  const recordOf = (outcome: NotificationOutcome, detail: string | null): NotificationRecord => {
    const now = deps.now();
    return {
      id: n.id,
      eventType: n.eventType,
      outTradeNo: reference,
      transactionId: n.kind === 'PAYMENT_SUCCEEDED' ? n.payment.transactionId || null : n.kind === 'OTHER' ? n.transactionId : null,
      outcome,
      detail,
      requestId,
      firstReceivedAt: now,
      lastReceivedAt: now,
      deliveries: 1,
    };
  };
  const processed = (outcome: NotificationOutcome, duplicate: boolean): NotificationAnswer => {
    deps.logger.info({ notificationId: n.id, outcome, duplicate }, 'notification processed'); // WeChat's Request-ID: in the log context
    return { kind: 'RECORDED', id: n.id, outcome, settled: isSettled(outcome), duplicate };
  };
  let outcome: NotificationOutcome = 'IGNORED_EVENT';
  let detail: string | null = n.kind === 'OTHER' ? n.detail : null;
  if (n.kind === 'PAYMENT_SUCCEEDED') {
    // The usual case, a payment that moves its order to PAID, is recorded with the transition: one commit.
    const applied = await applyPaymentSucceeded(deps, n.payment, 'notification', {
      record: recordOf('APPLIED', null),
      replaces: outcomesReplacedBy('APPLIED'),
    });
    if (applied.outcome === 'APPLIED') return processed(applied.outcome, known !== null); // recorded with it
    ({ outcome, detail } = applied);
  } else if (n.kind === 'REFUND_UPDATED') {
    ({ outcome, detail } = await applyRefundReport(deps, n.refund, 'notification'));
  }
  const { duplicate } = await deps.store.recordNotification(recordOf(outcome, detail), outcomesReplacedBy(outcome));
  return processed(outcome, duplicate);
}

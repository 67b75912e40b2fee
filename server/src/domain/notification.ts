// What the shop records of each payment notification, and which outcome may replace which:
// decided here, once; the stores apply it as a conditional write.

export type NotificationOutcome =
  | 'APPLIED'
  | 'ALREADY_PAID'
  | 'PAID_AFTER_CLOSE'
  | 'AMOUNT_MISMATCH'
  | 'APPID_MISMATCH'
  | 'MCHID_MISMATCH'
  | 'UNKNOWN_ORDER'
  | 'IGNORED_EVENT'
  /** A refund moved forward. */
  | 'REFUND_APPLIED'
  /** A refund report that changed nothing (still processing, or already final). */
  | 'REFUND_UNCHANGED'
  | 'UNKNOWN_REFUND';

export const NOTIFICATION_OUTCOMES: readonly NotificationOutcome[] = [
  'APPLIED',
  'ALREADY_PAID',
  'PAID_AFTER_CLOSE',
  'AMOUNT_MISMATCH',
  'APPID_MISMATCH',
  'MCHID_MISMATCH',
  'UNKNOWN_ORDER',
  'IGNORED_EVENT',
  'REFUND_APPLIED',
  'REFUND_UNCHANGED',
  'UNKNOWN_REFUND',
];

/** Outcomes that a repeat delivery cannot change: it is answered at once, as the first was. */
export const SETTLED_OUTCOMES: ReadonlySet<NotificationOutcome> = new Set([
  'APPLIED',
  'ALREADY_PAID',
  'PAID_AFTER_CLOSE',
  'AMOUNT_MISMATCH',
  'IGNORED_EVENT',
  'REFUND_APPLIED',
  'REFUND_UNCHANGED',
]);

export const isSettled = (o: NotificationOutcome): boolean => SETTLED_OUTCOMES.has(o);

/**
 * The stored outcomes that a newly decided `outcome` replaces (with its detail). An unsettled
 * outcome (unknown order, wrong payee) is replaced by whatever a later delivery decides; APPLIED,
 * the one outcome that moved an order, replaces anything a concurrent delivery recorded first.
 */
export function outcomesReplacedBy(outcome: NotificationOutcome): NotificationOutcome[] {
  if (outcome === 'APPLIED' || outcome === 'REFUND_APPLIED') return NOTIFICATION_OUTCOMES.filter((o) => o !== outcome);
  return NOTIFICATION_OUTCOMES.filter((o) => !isSettled(o));
}

/** A verified notification, keyed by the provider's notification id (unique). */
export interface NotificationRecord {
  id: string;
  eventType: string;
  outTradeNo: string | null;
  transactionId: string | null;
  outcome: NotificationOutcome;
  detail: string | null;
  requestId: string | null;
  firstReceivedAt: number;
  lastReceivedAt: number;
  deliveries: number;
}

/** A delivery refused before it could be trusted (bad signature, stale, probe, …). */
export interface RejectedNotification {
  receivedAt: number;
  reason: string;
  serial: string | null;
  requestId: string | null;
  bodySha256: string;
}

// What the result page shows, derived from the server's order (the truth) and what the payment
// sheet said (only a hint for the wording while the order is still pending).
import type { OrderView } from '../../services/orders';
import type { PaymentOutcome } from '../../services/wx';

export type ResultView =
  | { kind: 'loading' }
  | { kind: 'confirming' }
  | { kind: 'paid' }
  | { kind: 'unconfirmed' }
  | { kind: 'cancelled' }
  | { kind: 'failed'; reason: string }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };

export function resultView(order: OrderView | null, sheet: PaymentOutcome, polling: boolean, loadError: string | null): ResultView {
  if (!order) return loadError ? { kind: 'error', message: loadError } : { kind: 'loading' };
  if (order.status === 'PAID') return { kind: 'paid' };
  if (order.status === 'CLOSED') return { kind: 'closed' };
  // Past its time to pay, a pending order can no longer be paid (the server closes it shortly) —
  // unless the sheet said it was paid: then the payment may yet be confirmed, so keep confirming.
  if (sheet.outcome !== 'ok' && Date.parse(order.payDeadline) <= Date.now()) return { kind: 'closed' };
  if (sheet.outcome === 'ok') return polling ? { kind: 'confirming' } : { kind: 'unconfirmed' };
  if (sheet.outcome === 'cancel') return { kind: 'cancelled' };
  return { kind: 'failed', reason: sheet.message };
}

export function parseOutcome(outcome: string | undefined, message: string | undefined): PaymentOutcome {
  if (outcome === 'ok') return { outcome: 'ok' };
  if (outcome === 'cancel') return { outcome: 'cancel' };
  return { outcome: 'fail', message: message ? decodeURIComponent(message) : '' };
}

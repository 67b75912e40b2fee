import type { RequestPaymentParams } from '../../../server/src/http/schemas';

export type { RequestPaymentParams };

/** What the payment sheet ended with. Never proof of payment: the result page asks the server. */
export type PaymentOutcome = { outcome: 'ok' } | { outcome: 'cancel' } | { outcome: 'fail'; message: string };

/** What a payment sheet shows (the real WeChat sheet gets this from WeChat Pay itself). */
export interface SheetInfo {
  total: number;
  description: string;
}

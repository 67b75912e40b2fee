import type { RequestPaymentParams } from '../../../server/src/http/schemas';

export type { RequestPaymentParams };

/** What the payment sheet ended with. Never proof of payment: the result page asks the server. */
export type PaymentOutcome = { outcome: 'ok' } | { outcome: 'cancel' } | { outcome: 'fail'; message: string };

/** What a payment sheet shows (the real WeChat sheet gets this from WeChat Pay itself). */
export interface SheetInfo {
  total: number;
  description: string;
}

/** Which order the confirm-receipt component confirms (its extraData), and what to show around it. */
export interface ReceiptInfo {
  merchantId: string;
  outTradeNo: string;
  description: string;
}

/** opened: WeChat's component took over (its answer comes back when the app shows again); otherwise its answer. */
export type ReceiptOutcome = 'opened' | 'success' | 'fail' | 'cancel';

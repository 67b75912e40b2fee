import type { RequestPaymentParams } from '../../../server/src/http/schemas';

export type { RequestPaymentParams };

/** What the payment sheet ended with. Never proof of payment: the result page asks the server. */
export type PaymentOutcome =
  /** `subscriptions`: the subscription dialog's answers by template id, when one was asked for in the payment callback. */
  { outcome: 'ok'; subscriptions?: Record<string, string> } | { outcome: 'cancel' } | { outcome: 'fail'; message: string };

/** What a payment sheet shows (the real WeChat sheet gets this from WeChat Pay itself). */
export interface SheetInfo {
  total: number;
  description: string;
  /** Subscribe-message templates to ask for from the payment callback (once per order). */
  subscribe?: { tmplIds: string[] } | null;
}

/** Which order the confirm-receipt component confirms (its extraData), and what to show around it. */
export interface ReceiptInfo {
  merchantId: string;
  outTradeNo: string;
  description: string;
}

/** opened: WeChat's component took over (its answer comes back when the app shows again); otherwise its answer. */
export type ReceiptOutcome = 'opened' | 'success' | 'fail' | 'cancel';

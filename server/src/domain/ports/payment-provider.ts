// The payment-provider port, in the shop's words. Each protocol (WeChat Pay v3, v2) is one adapter
// in server/src/payments/ that maps WeChat's vocabulary (trade_state, error codes, JSON or XML) to
// these types. Adding a protocol adds an adapter, never a branch in the domain.
import type { Fen } from '../money';

/** What the shop asks a shopper to pay, for one payment attempt. */
export interface PaymentTerms {
  /** The attempt's reference at the provider (WeChat's out_trade_no); unique across attempts. */
  reference: string;
  description: string;
  amount: Fen;
  currency: 'CNY';
  /** Epoch ms after which the provider must refuse payment. */
  expiresAt: number;
  /** Who pays (the shopper's openid). */
  payer: string;
}

/** The fields the mini program hands to wx.requestPayment untouched. */
export interface PaymentSheetParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA' | 'MD5' | 'HMAC-SHA256';
  paySign: string;
}

/** Who was paid: checked against our own account before an order moves. */
export interface Payee {
  appId: string;
  merchantId: string;
}

/** The one normalized event the domain acts on, however it arrived. */
export interface PaymentSucceeded {
  reference: string;
  transactionId: string;
  payee: Payee;
  /** As the provider reported it; undefined when it reported none. */
  amount: Fen | undefined;
  currency: string | undefined;
  paidAt: number;
}

/** What the provider says about an attempt now. */
export type PaymentStatus =
  | { state: 'SUCCEEDED'; payment: PaymentSucceeded }
  /** Not paid yet and still payable (or being paid). */
  | { state: 'PENDING' }
  /** Closed, expired, revoked or failed: it will not be paid. */
  | { state: 'ENDED'; detail: string };

export type ProviderRefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';

/** Send back `amount` of one payment. */
export interface RefundRequest {
  /** Our unique reference for this refund; the same reference always means the same refund. */
  outRefundNo: string;
  /** The payment's attempt reference and the provider's transaction id. */
  reference: string;
  transactionId: string;
  amount: Fen;
  /** The payment's whole amount. */
  total: Fen;
  currency: 'CNY';
  reason: string | null;
}

/** What the provider says about a refund now. */
export interface RefundReport {
  outRefundNo: string;
  providerRefundId: string | null;
  status: ProviderRefundStatus;
  amount: Fen;
  /** The payment's attempt reference, when the provider names it. */
  reference: string | null;
  /** The merchant the refund belongs to, when the provider names it. */
  merchantId: string | null;
  settledAt: number | null;
}

interface NotificationBase {
  /** The provider's id for the notification; repeat deliveries carry the same one. */
  id: string;
  /** The provider's own name for the event (for records and logs). */
  eventType: string;
}

export type ProviderNotification =
  | (NotificationBase & { kind: 'PAYMENT_SUCCEEDED'; payment: PaymentSucceeded })
  | (NotificationBase & { kind: 'REFUND_UPDATED'; refund: RefundReport })
  /** An event the shop does not act on; `detail` says which. */
  | (NotificationBase & { kind: 'OTHER'; detail: string; reference: string | null; transactionId: string | null });

/** A delivery that could not be trusted or read. Nothing was decided from it. */
export interface NotificationRefusal {
  reason: string;
  message: string;
  /** The signature did not hold (or was a probe), as opposed to a malformed delivery. */
  unauthentic: boolean;
  /** Signed with a key the provider adapter does not hold (its serial): a rotation may have brought a new one. */
  unknownKey?: string;
}

export type NotificationParse = { ok: true; notification: ProviderNotification } | { ok: false; refusal: NotificationRefusal };

export interface IncomingNotification {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The raw bytes as received: signatures cover them exactly. */
  body: Buffer;
}

export type PaymentFailure =
  /** The reference was used with other terms, or closed: open a new attempt with a new reference. */
  | 'REFERENCE_UNUSABLE'
  /** The provider says the attempt is already paid. */
  | 'ALREADY_PAID'
  /** Busy or rate-limited: the same call may succeed shortly. */
  | 'BUSY'
  /** No answer, or an answer that could not be trusted. */
  | 'UNREACHABLE'
  /** Refused for another reason (our request or our account). */
  | 'REJECTED';

export class PaymentProviderError extends Error {
  constructor(
    readonly failure: PaymentFailure,
    message: string,
    /** The provider's own code and request id, for logs and support; safe to log. */
    readonly providerCode: string | null = null,
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = 'PaymentProviderError';
  }
}

/** One line of the provider's bill for a day, in the shop's words. Amounts in fen. */
export type BillEntry =
  | { kind: 'PAYMENT'; reference: string; transactionId: string; amount: Fen; fee: Fen }
  | {
      kind: 'REFUND';
      reference: string;
      transactionId: string;
      outRefundNo: string;
      providerRefundId: string;
      /** What was asked for. */
      amount: Fen;
      /** The refund's state when it was started (the bill never updates it): accepted, or failed. */
      state: 'ACCEPTED' | 'FAILED';
      /** The provider's own word for it, for the operator. */
      providerStatus: string;
      fee: Fen;
    };

/** The provider's totals for the day, as its summary states them (checked against the lines). */
export interface BillTotals {
  payments: Fen;
  refunds: Fen;
  fees: Fen;
}

export type DayBill =
  /** No payment or refund that day: final, not an error. */
  | { state: 'NONE' }
  /** Not generated yet: ask again later. */
  | { state: 'NOT_READY'; detail: string }
  /** Read as a stream: `entries` once, then `totals()` (which also checks the file's integrity). */
  | { state: 'READY'; entries: AsyncIterable<BillEntry>; totals(): BillTotals };

export interface PaymentProvider {
  /** Our own account at the provider: a success for another payee is not ours. */
  readonly payee: Payee;
  /** A fresh attempt reference in the provider's format. */
  newReference(now: number): string;
  /**
   * The exact request that prepare() sends for these terms. It is stored with the attempt: the
   * provider allows an identical re-post of a reference, and refuses a changed one.
   */
  requestFor(terms: PaymentTerms): string;
  /** Sends the stored request; returns the provider's prepay id. */
  prepare(request: string): Promise<{ prepayId: string }>;
  /** Signs fresh payment-sheet fields for a prepay id (off the event loop where the signature is costly). */
  sheetParams(prepayId: string, now: number): Promise<PaymentSheetParams>;
  /** null when the provider does not know the reference. */
  query(reference: string): Promise<PaymentStatus | null>;
  /** Closes the attempt so it can never be paid; closing an unknown or closed one succeeds. */
  close(reference: string): Promise<void>;
  /** A fresh refund reference in the provider's format. */
  newRefundReference(now: number): string;
  /** Asks for a refund; the answer is usually PROCESSING, the outcome follows by notification or query. */
  refund(request: RefundRequest): Promise<RefundReport>;
  /** null when the provider does not know the refund reference. */
  queryRefund(outRefundNo: string): Promise<RefundReport | null>;
  /** Fetches the provider's keys again because a message named `key`, which is not held (rate-limited by the adapter);
   *  true when it is held now. Absent where keys never change at run time. */
  refreshKeys?(key: string): Promise<boolean>;
  /** Verifies and reads a notification. Never throws for a bad delivery: it refuses it. */
  parseNotification(input: IncomingNotification): NotificationParse;
  /** The provider's trade bill for one day (`YYYY-MM-DD`, Beijing). A file that fails its integrity check throws
   *  PaymentProviderError('UNREACHABLE') while it is read. */
  dayBill(date: string): Promise<DayBill>;
  /** How this protocol answers a notification: v3 reads the HTTP status, v2 also an exact XML body. */
  answerNotification(answer: { accepted: boolean; status: number; message: string }): NotificationReply;
}

export interface NotificationReply {
  status: number;
  contentType: string | null;
  body: string;
}

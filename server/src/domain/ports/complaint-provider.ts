// The complaint systems, in the shop's words: WeChat Pay's consumer complaints (PAY) and the mini program's trade
// complaints (MINIPROGRAM) behind one port. The adapter (server/src/complaints/) maps each system's states,
// fields and calls; the domain decides what they mean for our orders and money.
import type { ComplaintEvent, ComplaintSource, ComplaintState } from '../complaint';
import type { Fen } from '../money';
import type { IncomingNotification, NotificationRefusal } from './payment-provider';

export interface ComplaintRef {
  source: ComplaintSource;
  /** The provider's own id. */
  id: string;
}

/** A complaint as the provider reports it now. */
export interface ProviderComplaint extends ComplaintRef {
  outTradeNo: string | null;
  transactionId: string | null;
  state: ComplaintState;
  createdAt: number;
  /** The provider's own deadline for the current step, when it states one. */
  deadline: number | null;
  problem: string;
  refundRequested: Fen | null;
  /** Decrypted; the domain seals it before it is stored. */
  payerPhone: string | null;
  events: ComplaintEvent[];
}

export type ComplaintNotificationParse =
  | { ok: true; notificationId: string; ref: ComplaintRef }
  | { ok: false; refusal: NotificationRefusal };

export class ComplaintProviderError extends Error {
  constructor(
    message: string,
    /** The provider's code, for logs and the operator. */
    readonly providerCode: string | null,
    /** Refused for our request (state, validation), as opposed to unreachable. */
    readonly rejected: boolean,
  ) {
    super(message);
    this.name = 'ComplaintProviderError';
  }
}

export interface ComplaintProvider {
  /** Registers where WeChat Pay sends complaint notifications (PAY; one URL per merchant). */
  registerNotificationUrl(url: string): Promise<void>;
  /** The URL registered now, or null. */
  notificationUrl(): Promise<string | null>;
  /** Verifies and reads a PAY complaint notification. Never throws for a bad delivery: it refuses it. */
  parseNotification(input: IncomingNotification): ComplaintNotificationParse;
  /** The complaint with its history; null when the provider does not know it. */
  fetch(ref: ComplaintRef): Promise<ProviderComplaint | null>;
  /** PAY complaints filed since `since` (the list covers at most 30 days). */
  listRecent(since: number, now: number): Promise<ComplaintRef[]>;
  reply(ref: ComplaintRef, text: string): Promise<void>;
  decideRefund(ref: ComplaintRef, d: { approve: true } | { approve: false; reason: string }): Promise<void>;
  complete(ref: ComplaintRef): Promise<void>;
}

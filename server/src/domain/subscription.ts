// Subscribe messages: one accepted template is one send credit, for one order and its shopper. A credit is
// sent at most once, after the state change it announces was committed:
//
//   AVAILABLE ──▶ SENDING (claimed until …) ──▶ SENT | GIVEN_UP        (a transient failure: back to AVAILABLE)
export type MessageKind = 'paid' | 'shipped' | 'refunded';
export const MESSAGE_KINDS: readonly MessageKind[] = ['paid', 'shipped', 'refunded'];

export type CreditState = 'AVAILABLE' | 'SENDING' | 'SENT' | 'GIVEN_UP';

export interface SendCredit {
  /** `${orderId}:${kind}`: one credit per order and kind. */
  id: string;
  orderId: string;
  kind: MessageKind;
  openid: string;
  templateId: string;
  state: CreditState;
  /** While SENDING: until when the sender holds it (another instance takes it over after). */
  claimUntil: number | null;
  attempts: number;
  /** Why it was given up, or the last transient failure. */
  lastError: string | null;
  sentAt: number | null;
  createdAt: number;
  version: number;
}

/** The credits a sender may take at `now`: available, or held by a sender whose claim ran out. */
export const isSendable = (c: Pick<SendCredit, 'state' | 'claimUntil'>, now: number): boolean =>
  c.state === 'AVAILABLE' || (c.state === 'SENDING' && (c.claimUntil ?? 0) <= now);

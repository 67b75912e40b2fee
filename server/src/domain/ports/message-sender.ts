// Subscribe messages out (WeChat's subscribeMessage.send): the domain names what to say, the adapter fits each
// value to the template's keyword rules and sends it.
import type { MessageKind } from '../subscription';

/** What a message says, in the shop's words; the adapter maps each to a template keyword. */
export interface MessageValues {
  order: string;
  item: string;
  amount?: number;
  time?: number;
  carrier?: string;
  trackingNo?: string;
  reason?: string;
}

export class MessageSendError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    /** Final: the shopper refused or the message can never be sent (no retry). */
    readonly final: boolean,
  ) {
    super(message);
    this.name = 'MessageSendError';
  }
}

export interface MessageSender {
  /** The configured template for a kind, or null (not configured: nothing is asked or sent). */
  templateOf(kind: MessageKind): string | null;
  send(m: { openid: string; kind: MessageKind; page: string; values: MessageValues }): Promise<void>;
}

// The protocol library's one error type. Callers ask it questions (isOrderPaid, isRetryable, …)
// instead of matching WeChat's codes themselves; the library knows no orders and no HTTP statuses
// of ours.

export type WechatPayErrorKind =
  /** No answer: connection refused, reset, timed out. */
  | 'NETWORK'
  /** An answer that cannot be trusted: unsigned, stale, badly signed, or not of the documented shape. */
  | 'UNTRUSTED'
  /** WeChat Pay answered with an error code. */
  | 'API';

const RETRYABLE_CODES = new Set([
  'SYSTEM_ERROR',
  'SYSTEMERROR',
  'FREQUENCY_LIMITED',
  'RATELIMIT_EXCEEDED',
  'SERVICE_UNAVAILABLE',
  'BANKERROR',
  'UNKNOWN',
]);

export class WechatPayError extends Error {
  constructor(
    readonly kind: WechatPayErrorKind,
    /** WeChat's code (`ORDERPAID`, `SIGN_ERROR`, …), or the kind's name when there is none. */
    readonly code: string,
    message: string,
    /** The HTTP status WeChat Pay answered with; null when there was no answer. */
    readonly httpStatus: number | null = null,
    /** WeChat's Request-ID for this call: what WeChat support asks for. */
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = 'WechatPayError';
  }

  /** The out_trade_no was used with other parameters: a new one is needed. */
  get isOutTradeNoUsed(): boolean {
    return this.code === 'OUT_TRADE_NO_USED';
  }
  get isOrderPaid(): boolean {
    return this.code === 'ORDERPAID' || this.code === 'ORDER_PAID' || this.code === 'TRADE_PAID';
  }
  get isOrderClosed(): boolean {
    return this.code === 'ORDER_CLOSED' || this.code === 'ORDERCLOSED';
  }
  get isNotFound(): boolean {
    return (
      this.code === 'ORDER_NOT_EXIST' ||
      this.code === 'ORDERNOTEXIST' ||
      this.code === 'RESOURCE_NOT_EXISTS' ||
      this.code === 'REFUNDNOTEXIST'
    );
  }
  get isFrequencyLimited(): boolean {
    return this.httpStatus === 429 || this.code === 'FREQUENCY_LIMITED' || this.code === 'RATELIMIT_EXCEEDED';
  }
  /** The same call may succeed later: no answer, WeChat busy, or a documented transient code. */
  get isRetryable(): boolean {
    if (this.kind === 'NETWORK' || this.isFrequencyLimited) return true;
    if (this.httpStatus === 502 || this.httpStatus === 503) return true;
    // v3 answers these with 5xx; v2 always with HTTP 200 and the code in the XML.
    return (
      this.kind === 'API' &&
      RETRYABLE_CODES.has(this.code) &&
      !(this.httpStatus !== null && this.httpStatus >= 400 && this.httpStatus < 500)
    );
  }
}

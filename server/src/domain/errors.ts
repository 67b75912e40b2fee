// One error type inside the server. The HTTP layer maps it to a status and the
// `{"error": {"code", "message"}}` body; nothing else decides statuses.

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'WECHAT_CODE_INVALID'
  | 'WECHAT_BUSY'
  | 'WECHAT_UNREACHABLE'
  | 'WECHATPAY_BUSY'
  | 'WECHATPAY_UNREACHABLE'
  | 'WECHATPAY_REJECTED'
  | 'NOT_FOUND'
  | 'UNKNOWN_SKU'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'ORDER_ALREADY_PAID'
  | 'ORDER_CLOSED'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNKNOWN_SKU: 400,
  UNAUTHENTICATED: 401,
  WECHAT_CODE_INVALID: 401,
  NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 409,
  ORDER_ALREADY_PAID: 409,
  ORDER_CLOSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  WECHAT_UNREACHABLE: 502,
  WECHATPAY_UNREACHABLE: 502,
  WECHATPAY_REJECTED: 502,
  WECHAT_BUSY: 503,
  WECHATPAY_BUSY: 503,
  STORE_UNAVAILABLE: 503,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const invalid = (field: string, message: string) =>
  new AppError('VALIDATION_FAILED', `${field}: ${message}`, { field });

/** Raised by storage adapters when a unique index rejects a write; never a driver error above the adapter. */
export class DuplicateKeyError extends Error {
  constructor(readonly index: 'out_trade_no' | 'notification_id' | 'idempotency_key' | 'openid' | 'token' | 'other') {
    super(`duplicate key on ${index}`);
    this.name = 'DuplicateKeyError';
  }
}

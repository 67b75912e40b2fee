import type { IdentityProviderError } from './ports/identity-provider';
import type { PaymentProviderError } from './ports/payment-provider';

// One error type inside the server, named by a code. The HTTP layer (http/errors.ts) maps each code to a
// status and the `{"error": {"code", "message"}}` body; the domain knows no HTTP.

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
  | 'ORDER_NOT_PAID'
  | 'ORDER_REFUNDED'
  | 'RESHIP_USED'
  | 'SHIPMENT_LOCKED'
  | 'SHIPMENT_CHANGED'
  | 'RATE_LIMITED'
  | 'BILL_NOT_READY'
  | 'COMPLAINT_RESOLVED'
  | 'COMPLAINT_DECIDED'
  | 'COMPLAINT_REFUSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'STORE_UNAVAILABLE'
  | 'INTERNAL';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const invalid = (field: string, message: string) => new AppError('VALIDATION_FAILED', `${field}: ${message}`, { field });

/** The unique constraints the domain relies on, by what they keep unique. */
export type DuplicateKeyIndex = 'out_trade_no' | 'notification_id' | 'idempotency_key' | 'out_refund_no' | 'openid' | 'token' | 'other';

/** Raised by storage adapters when a unique index rejects a write; never a driver error above the adapter. */
export class DuplicateKeyError extends Error {
  constructor(readonly index: DuplicateKeyIndex) {
    super(`duplicate key on ${index}`);
    this.name = 'DuplicateKeyError';
  }
}

/** Raised by storage adapters when the database cannot be reached or fails; a retry may succeed. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the store is unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** A payment provider's failure in the API's words; `orderId` names an order saved before the call. */
export function paymentFailure(err: PaymentProviderError, orderId?: string): AppError {
  const details = { providerCode: err.providerCode, requestId: err.requestId, ...(orderId ? { orderId } : {}) };
  switch (err.failure) {
    case 'BUSY':
      return new AppError('WECHATPAY_BUSY', 'WeChat Pay is busy; the order is saved and can be paid again shortly', details);
    case 'UNREACHABLE':
      return new AppError('WECHATPAY_UNREACHABLE', 'WeChat Pay could not be reached; the order is saved and can be paid again', details);
    default:
      return new AppError('WECHATPAY_REJECTED', `WeChat Pay refused the request (${err.providerCode ?? err.failure})`, details);
  }
}

/** A login provider's failure in the API's words. */
export function identityFailure(err: IdentityProviderError): AppError {
  const details = { errcode: err.providerCode };
  if (err.failure === 'CODE_INVALID')
    return new AppError('WECHAT_CODE_INVALID', 'the login code is invalid, expired or already used; call wx.login again', details);
  if (err.failure === 'BUSY') return new AppError('WECHAT_BUSY', 'WeChat login is busy; try again in a moment', details);
  return new AppError(
    'WECHAT_UNREACHABLE',
    `WeChat login failed${err.providerCode !== null ? ` (errcode ${err.providerCode})` : '; try again'}`,
    details,
  );
}

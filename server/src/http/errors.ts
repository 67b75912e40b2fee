// The one error middleware: AppError → its status; body-parser and store failures → their
// fitting codes; anything else → 500 without internals.
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { NOTIFY_PATH } from '../config';
import { AppError, type ErrorCode, StoreUnavailableError } from '../domain/errors';

/** The status each error code answers with: decided here, once, for every route. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNKNOWN_SKU: 400,
  UNAUTHENTICATED: 401,
  WECHAT_CODE_INVALID: 401,
  NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 409,
  ORDER_ALREADY_PAID: 409,
  ORDER_CLOSED: 409,
  ORDER_NOT_PAID: 409,
  ORDER_REFUNDED: 409,
  RESHIP_USED: 409,
  SHIPMENT_LOCKED: 409,
  SHIPMENT_CHANGED: 409,
  BILL_NOT_READY: 409,
  COMPLAINT_RESOLVED: 409,
  COMPLAINT_DECIDED: 409,
  COMPLAINT_REFUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  WECHAT_UNREACHABLE: 502,
  WECHATPAY_UNREACHABLE: 502,
  WECHATPAY_REJECTED: 502,
  WECHAT_BUSY: 503,
  WECHATPAY_BUSY: 503,
  STORE_UNAVAILABLE: 503,
};

/** The HTTP status for an error. */
export const statusOf = (e: AppError): number => HTTP_STATUS[e.code];

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof StoreUnavailableError)
    return new AppError('STORE_UNAVAILABLE', 'the service is temporarily unavailable; try again shortly');
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'body: too large');
  if (type === 'entity.parse.failed') return new AppError('VALIDATION_FAILED', 'body: not valid JSON', { field: 'body' });
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new AppError('VALIDATION_FAILED', 'body: unsupported encoding', { field: 'body' });
  if ((err as { status?: number }).status === 400) return new AppError('VALIDATION_FAILED', 'body: malformed request', { field: 'body' });
  return new AppError('INTERNAL', 'something went wrong on our side; try again');
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toAppError(err);
    // details hold only what is safe to log: field names, WeChat's codes and Request-ID, order ids.
    if (statusOf(e) >= 500)
      logger.error(
        { code: e.code, err: err instanceof Error ? err.message : String(err), path: req.originalUrl.split('?')[0], ...e.details },
        'request failed',
      );
    if (res.headersSent) return;
    if (req.originalUrl.split('?')[0] === NOTIFY_PATH) {
      res.status(statusOf(e)).json({ code: 'FAIL', message: e.message });
      return;
    }
    const field = typeof e.details?.field === 'string' ? e.details.field : undefined;
    const orderId = typeof e.details?.orderId === 'string' ? e.details.orderId : undefined;
    res
      .status(statusOf(e))
      .json({ error: { code: e.code, message: e.message, ...(field ? { field } : {}), ...(orderId ? { orderId } : {}) } });
  };
}

// The one error middleware: AppError → its status; body-parser and store failures → their
// fitting codes; anything else → 500 without internals.
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { AppError, StoreUnavailableError } from '../domain/errors';

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
    if (e.status >= 500)
      logger.error(
        { code: e.code, err: err instanceof Error ? err.message : String(err), path: req.originalUrl.split('?')[0], ...e.details },
        'request failed',
      );
    if (res.headersSent) return;
    if (req.originalUrl.split('?')[0] === '/api/wechatpay/notify') {
      res.status(e.status).json({ code: 'FAIL', message: e.message });
      return;
    }
    const field = typeof e.details?.field === 'string' ? e.details.field : undefined;
    const orderId = typeof e.details?.orderId === 'string' ? e.details.orderId : undefined;
    res
      .status(e.status)
      .json({ error: { code: e.code, message: e.message, ...(field ? { field } : {}), ...(orderId ? { orderId } : {}) } });
  };
}

// Cross-cutting HTTP: security headers (helmet), JSON only on JSON routes, and request logs.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors';

/** helmet's defaults everywhere; the API's answers are data: no content of theirs may run or be framed. */
export function securityHeaders(): RequestHandler {
  const base = helmet({ contentSecurityPolicy: false, frameguard: { action: 'deny' }, crossOriginResourcePolicy: { policy: 'same-origin' }, referrerPolicy: { policy: 'no-referrer' } });
  const api = helmet.contentSecurityPolicy({ useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } });
  return (req, res, next) => {
    base(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (!req.path.startsWith('/api/')) return next();
      res.set('Cache-Control', 'no-store');
      api(req, res, next);
    });
  };
}

/**
 * JSON routes take `application/json` only. A body of another type — text/plain, a form: what a
 * cross-site page can send without asking — is refused with 415 before it is read.
 */
export const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('Content-Length') ?? 0) > 0 || req.get('Transfer-Encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json', { field: 'Content-Type' });
  }
  next();
};

const NOTIFY_PATH = '/api/wechatpay/notify';
const STATIC = /\.(js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|map|txt)$/;

/**
 * One line per request: method, full path (never the query or headers), status, duration. Static
 * files are not logged, nor the notify route: its pipeline logs what it decided, sampling refusals,
 * so a flood of junk costs no log line per request.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = crypto.randomUUID();
    res.set('X-Request-Id', requestId);
    const path = req.originalUrl.split('?')[0]!;
    if ((req.method === 'GET' && STATIC.test(path)) || path === NOTIFY_PATH) return next();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ requestId, method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

// Cross-cutting HTTP: security headers (helmet), JSON only on JSON routes, and request logs.
import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { logContext } from '../logger';
import { AppError } from '../domain/errors';

/** helmet's defaults everywhere. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** The API's answers are data: no content of theirs may run or be framed, and no cache keeps them. */
export function apiHeaders(): RequestHandler {
  const csp = helmet.contentSecurityPolicy({ useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } });
  return (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    csp(req, res, next);
  };
}

/** A router whose requests get no request line: it logs what it decided itself (sampling what strangers send). */
export const quietRequestLog: RequestHandler = (_req, res, next) => {
  res.locals.quietRequestLog = true;
  next();
};

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

const STATIC = /\.(js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|map|txt|br|gz)$/;
/** A GET for a file of the H5 client: neither logged nor measured per request. */
export const isStaticRequest = (method: string | undefined, path: string) => method === 'GET' && STATIC.test(path);
const pathOf = (req: IncomingMessage) => ((req as Request).originalUrl ?? req.url ?? '').split('?')[0]!;

/**
 * Request ids and request logs (pino-http). Every request gets an id, echoed as `Request-ID` and
 * carried by every log line written while serving it. One line per request: method, full path (never
 * the query or headers), status, duration. Static files are not logged, nor the requests of a router that
 * says `quietRequestLog` (WeChat's notifications and pushes: their pipelines log what they decided,
 * sampling refusals, so a flood of junk costs no line per request, however the path is spelt).
 */
export function requestLog(logger: Logger): RequestHandler {
  const http = pinoHttp({
    logger,
    quietReqLogger: false, // the request id comes from the log context (mixin), once per line
    genReqId: (_req, res) => {
      const id = crypto.randomUUID();
      res.setHeader('Request-ID', id);
      return id;
    },
    autoLogging: { ignore: (req) => isStaticRequest(req.method, pathOf(req)) },
    customLogLevel: (_req, res, err) =>
      (res as { locals?: { quietRequestLog?: boolean } }).locals?.quietRequestLog
        ? 'silent'
        : err || res.statusCode >= 500
          ? 'error'
          : 'info',
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
    wrapSerializers: false,
    serializers: { req: () => undefined, res: () => undefined, err: (e: Error) => e.message },
    // The line's fields, computed once the answer is sent (status and duration are known then).
    customSuccessObject: (req, res, val: { responseTime?: number }) => ({
      method: req.method,
      path: pathOf(req),
      status: res.statusCode,
      ms: val.responseTime,
    }),
    customErrorObject: (req, res, err, val: { responseTime?: number }) => ({
      method: req.method,
      path: pathOf(req),
      status: res.statusCode,
      ms: val.responseTime,
      err: err?.message,
    }),
  });
  return (req, res, next) => http(req, res, () => logContext.run({ reqId: String(req.id) }, next));
}

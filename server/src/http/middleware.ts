// Cross-cutting HTTP: security headers (helmet), JSON only on JSON routes, and request logs.
import express, { type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { logContext } from '../logger';
import { AppError } from '../domain/errors';

/** The headers a header-setting middleware sets, recorded once: helmet's depend on its options, never on the request. */
function recordHeaders(middleware: RequestHandler): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  middleware({} as never, recorder as never, () => undefined);
  return headers;
}

/** What helmet sets for documents that still means something on a JSON answer (OWASP's REST set, and more). */
const FOR_DATA_TOO = new Set([
  'Strict-Transport-Security',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'Cross-Origin-Resource-Policy',
  'Referrer-Policy',
  'X-Permitted-Cross-Domain-Policies',
]);
/** /api, however Express would match it (case-insensitively), with or without more path or a query; but
 *  /api/docs, a page (Swagger UI) with its own CSP, which gets the documents' headers. */
const API_PATH = /^\/api(?:[/?]|$)/i;
const DOCS_PATH = /^\/api\/docs(?:[/?]|$)/i;
const isData = (url: string) => API_PATH.test(url) && !DOCS_PATH.test(url);

/**
 * Security headers, computed once and set from a list (helmet's values depend on its options, never on
 * the request, so its dozen nested middleware calls per answer bought nothing).
 * - Documents (the ops page, the H5 shop, anything outside /api): helmet's defaults, framing denied,
 *   resources same-origin, no referrer; their own CSP comes from their routes.
 * - The API's answers are data: no content of theirs may run or be framed (`Content-Security-Policy:
 *   default-src 'none'; frame-ancestors 'none'`), no cache keeps them (`Cache-Control: no-store`), and of
 *   helmet's headers they carry those that mean something for data (FOR_DATA_TOO); the ones that only
 *   govern a browsing context (opener policy, agent clusters, DNS prefetch, IE downloads, the XSS
 *   auditor) are left off: each costs the hot paths about a microsecond and protects no JSON answer.
 */
export function securityHeaders(): RequestHandler {
  const documents = recordHeaders(
    helmet({
      contentSecurityPolicy: false,
      frameguard: { action: 'deny' },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  const data: [string, string][] = [
    ...documents.filter(([name]) => FOR_DATA_TOO.has(name)),
    ['Cache-Control', 'no-store'],
    ...recordHeaders(
      helmet.contentSecurityPolicy({ useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }),
    ),
  ];
  return (req, res, next) => {
    for (const [name, value] of isData(req.url) ? data : documents) res.setHeader(name, value);
    next();
  };
}

/** A router whose requests get no request line: it logs what it decided itself (sampling what strangers send). */
export const quietRequestLog: RequestHandler = (_req, res, next) => {
  res.locals.quietRequestLog = true;
  next();
};

/**
 * JSON routes take `application/json` only. A body of another type — text/plain, a form: what a
 * cross-site page can send without asking — is refused with 415 before it is read; a JSON body is parsed
 * (express.json, up to `limit`). A request without a body (most of them: GETs) passes straight through.
 */
export function jsonBodies(limit: string): RequestHandler {
  const parse = express.json({ limit, type: 'application/json' });
  return (req, res, next) => {
    const length = req.headers['content-length'];
    if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) return next();
    if (!req.is('application/json'))
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json', { field: 'Content-Type' });
    parse(req, res, next);
  };
}

const STATIC = /\.(js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|map|txt|br|gz)$/;
/** A GET for a file of the H5 client: neither logged nor measured per request. */
export const isStaticRequest = (method: string | undefined, path: string) => method === 'GET' && STATIC.test(path);
const pathOf = (req: IncomingMessage) => ((req as Request).originalUrl ?? req.url ?? '').split('?')[0]!;

/**
 * Request ids and request logs. Every request gets an id (a UUID), echoed as `Request-ID` and carried by
 * every log line written while serving it (the log context). One line per request, written when the
 * answer is done: method, full path (never the query or headers), status, duration in ms; `error` level
 * for a 5xx, `aborted: true` when the client left first. Static files are not logged, nor the requests of
 * a router that says `quietRequestLog` (WeChat's notifications and pushes: their pipelines log what they
 * decided, sampling refusals, so a flood of junk costs no line per request, however the path is spelt).
 *
 * Written on pino directly rather than through pino-http, which builds a child logger for every request
 * and listens three times: that cost 36 µs of CPU per request here (`npm run bench:layers`); this costs
 * one listener and, when the line is written, one call.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const reqId = crypto.randomUUID();
    res.setHeader('Request-ID', reqId);
    const start = performance.now();
    res.once('close', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      if (res.locals.quietRequestLog || !logger.isLevelEnabled(level)) return;
      const path = pathOf(req);
      if (isStaticRequest(req.method, path)) return;
      const line: Record<string, unknown> = { reqId, method: req.method, path, status, ms: Math.round(performance.now() - start) };
      if (!res.writableFinished) line.aborted = true;
      logger[level](line, 'request');
    });
    logContext.run({ reqId }, next);
  };
}

/**
 * A JSON answer, written directly: what `res.json` writes (the same Content-Type; Node adds the
 * Content-Length and leaves the body out of a HEAD answer) without Express's per-call charset parsing and
 * freshness checks, which a `no-store` API answer never needs. For the hot routes.
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

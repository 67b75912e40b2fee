import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError } from '../domain/errors';

export const securityHeaders: RequestHandler = (req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  });
  if (req.path.startsWith('/api/')) {
    res.set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'" });
  }
  next();
};

/** One line per request: method, path (never the query or headers), status, duration. */
export function requestLog(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = crypto.randomUUID();
    res.set('X-Request-Id', requestId);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ requestId, method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

/**
 * A fixed-window limit per client address, per process. Behind several instances each
 * enforces its own share; a shared limiter (Redis, the gateway) is the place for a global one.
 */
export function rateLimit(bucket: string, perMinute: number, now: () => number): RequestHandler {
  const windows = new Map<string, { start: number; count: number }>();
  return (req, res, next) => {
    const t = now();
    const key = `${bucket}:${req.ip ?? 'unknown'}`;
    let w = windows.get(key);
    if (!w || t - w.start >= 60_000) {
      if (windows.size > 50_000) windows.clear();
      w = { start: t, count: 0 };
      windows.set(key, w);
    }
    w.count += 1;
    if (w.count > perMinute) {
      res.set('Retry-After', String(Math.ceil((w.start + 60_000 - t) / 1000)));
      throw new AppError('RATE_LIMITED', 'too many requests; wait a minute and try again');
    }
    next();
  };
}

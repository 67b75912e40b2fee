// Per-client limits through rate-limiter-flexible: memory bounded per key (entries expire with their
// window instead of everyone being forgotten at once), the standard RateLimit-* and Retry-After
// headers, and a backend that holds across processes where the deployment has several (node:cluster
// workers share one through the primary; MongoDB deployments share one collection).
import type { Request, RequestHandler } from 'express';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../domain/errors';

/** Makes one named limiter of `points` per `durationS` seconds. */
export type LimiterFactory = (name: string, points: number, durationS: number) => RateLimiterAbstract;

/** Limits requests by `keyOf(req)`; answers 429 with Retry-After past the limit. */
export function rateLimit(limiter: RateLimiterAbstract, keyOf: (req: Request) => string): RequestHandler {
  const limit = String(limiter.points);
  return async (req, res, next) => {
    let r: RateLimiterRes;
    try {
      r = await limiter.consume(keyOf(req));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // the backend failed: let the error middleware answer
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      res.set({
        'RateLimit-Limit': String(limiter.points),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(seconds),
        'Retry-After': String(seconds),
      });
      throw new AppError('RATE_LIMITED', `too many requests; try again in ${seconds} s`);
    }
    res.setHeader('RateLimit-Limit', limit);
    res.setHeader('RateLimit-Remaining', String(r.remainingPoints));
    res.setHeader('RateLimit-Reset', String(Math.ceil(r.msBeforeNext / 1000)));
    next();
  };
}

/** The client's address as Express sees it under the configured `trust proxy`. */
export const byAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

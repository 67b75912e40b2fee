// Who may act as the operator: the admin token, as a bearer (/api/admin, /metrics) or once at the ops
// page's sign-in. Wrong tokens are counted per client address; past a handful a minute the address is
// answered 429 — the right token included, so a guesser learns nothing — until the minute is over.
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../domain/errors';
import { byAddress } from './rate-limit';

/** Wrong admin tokens a minute from one address before it is answered 429. */
export const ADMIN_FAILURES_PER_MINUTE = 9;

export type AdminAuthKind = 'bearer' | 'sign-in';

export interface AdminGuard {
  /** The bearer check: 404 without a configured token (as if the route did not exist), 429 while blocked, 401 for a wrong token. */
  bearer: RequestHandler;
  /** Seconds until the address may try again (0: not blocked). */
  blockedFor(req: Request): Promise<number>;
  /** Counts a wrong token from the request's address. */
  failed(req: Request, kind: AdminAuthKind): Promise<void>;
  /** Answers 429 with Retry-After, counted. */
  limited(res: Response, kind: AdminAuthKind, seconds: number): void;
}

export function createAdminGuard(o: {
  token: string | null;
  /** `ADMIN_FAILURES_PER_MINUTE` points per 60 s, shared by the processes of the deployment. */
  limiter: RateLimiterAbstract;
  count(kind: AdminAuthKind, outcome: 'failure' | 'limited'): void;
}): AdminGuard {
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  const expected = o.token ? digest(o.token) : null;
  const guard: AdminGuard = {
    async blockedFor(req) {
      const r = await o.limiter.get(byAddress(req));
      return r && r.consumedPoints >= o.limiter.points ? Math.max(1, Math.ceil(r.msBeforeNext / 1000)) : 0;
    },
    async failed(req, kind) {
      o.count(kind, 'failure');
      await o.limiter.consume(byAddress(req)).catch(() => undefined); // past the limit: already blocked
    },
    limited(res, kind, seconds) {
      o.count(kind, 'limited');
      res.set('Retry-After', String(seconds));
    },
    bearer: async (req, res, next) => {
      if (!expected) throw new AppError('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`);
      const wait = await guard.blockedFor(req);
      if (wait) {
        guard.limited(res, 'bearer', wait);
        throw new AppError('RATE_LIMITED', `too many wrong admin tokens from this address; try again in ${wait} s`);
      }
      const given = /^Bearer (\S{1,256})$/.exec(req.get('Authorization') ?? '')?.[1];
      // Compared as digests, in constant time: the token's length and prefix leak nothing.
      if (!given || !crypto.timingSafeEqual(digest(given), expected)) {
        await guard.failed(req, 'bearer');
        throw new AppError('UNAUTHENTICATED', 'the admin token is missing or wrong');
      }
      next();
    },
  };
  return guard;
}

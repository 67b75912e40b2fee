// /api/auth: login through the identity provider, logout; and the middleware that authenticates.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { authenticate, login, logout, logoutEverywhere, type AuthDeps } from '../domain/auth';
import type { User } from '../domain/user';
import { byAddress, rateLimit, type LimiterFactory } from './rate-limit';
import { loginBody } from './schemas';
import { parse } from './validate';

type Authed = Request & { user: User; token: string };

/** The user requireUser authenticated for this request. */
export const userOf = (req: Request): User => (req as unknown as Authed).user;

export function requireUser(deps: Pick<AuthDeps, 'store' | 'now'>): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('Authorization') ?? '';
    const token = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(header)?.[1];
    const user = await authenticate(deps, token);
    Object.assign(req, { user, token });
    next();
  };
}

export function authRoutes(deps: AuthDeps, limits: { loginPerMinute: number }, limiter: LimiterFactory): Router {
  const r = express.Router();
  r.post('/login', rateLimit(limiter('login', limits.loginPerMinute, 60), byAddress), async (req, res) => {
    const { code } = parse(loginBody, req.body);
    res.json(await login(deps, code));
  });
  r.post('/logout', requireUser(deps), async (req, res) => {
    await logout(deps, (req as Authed).token);
    res.status(204).end();
  });
  r.post('/logout-all', requireUser(deps), async (req, res) => {
    await logoutEverywhere(deps, userOf(req));
    res.status(204).end();
  });
  return r;
}

// Signing in to the ops page: the admin token, once, for a cookie (HttpOnly, SameSite=Strict, /admin
// only); every form post must come from this origin.
import crypto from 'node:crypto';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { AppError } from '../../domain/errors';
import { banner, html, page } from './html';

const COOKIE = 'ops_session';

/** A form post from this site: the browser says so (Sec-Fetch-Site), or its Origin is ours; an opaque "null" origin is not. */
export function sameOrigin(req: Request): boolean {
  const site = req.get('Sec-Fetch-Site');
  if (site) return site === 'same-origin';
  const origin = req.get('Origin');
  if (origin === undefined) return true; // not a browser's cross-site request (those carry Origin on POST)
  try {
    return new URL(origin).host === req.get('Host');
  } catch {
    return false;
  }
}

export interface OpsSignIn {
  /** GET/POST /login and POST /logout. */
  routes: Router;
  /** Lets signed-in requests through; sends others to the sign-in page (GET) or refuses them. */
  required: RequestHandler;
}

export function opsSignIn(token: string): OpsSignIn {
  const session = crypto.createHmac('sha256', token).update('ops-session').digest('base64url');
  const same = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const cookieOf = (req: Request) => /(?:^|;\s*)ops_session=([\w-]+)/.exec(req.get('Cookie') ?? '')?.[1] ?? '';
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

  const routes = express.Router();
  routes.get('/login', (req, res) => {
    const failed = req.query.failed === '1' ? banner('管理令牌不正确，请检查 ADMIN_TOKEN 后重试', true) : '';
    const form = html`<form method="post" action="/admin/login" class="inline"><label>管理令牌 (ADMIN_TOKEN)<input type="password" name="token"
autocomplete="current-password" required autofocus></label><button type="submit">登录</button></form>`;
    res
      .type('html')
      .send(
        page(
          '登录',
          html`<section class="narrow"><h2>运营后台登录</h2>${failed}${form}<p class="muted">令牌见服务器的 ADMIN_TOKEN；本地沙箱模式下见 DATA_DIR/admin_token。</p></section>`,
        ),
      );
  });
  routes.post('/login', (req, res) => {
    const given = typeof req.body?.token === 'string' ? req.body.token : '';
    if (!crypto.timingSafeEqual(digest(given), digest(token))) return res.redirect(303, '/admin/login?failed=1');
    res.cookie(COOKIE, session, { httpOnly: true, sameSite: 'strict', path: '/admin', secure: req.secure, maxAge: 8 * 3600_000 });
    res.redirect(303, '/admin');
  });
  routes.post('/logout', (_req, res) => {
    res.clearCookie(COOKIE, { path: '/admin' });
    res.redirect(303, '/admin/login');
  });
  return {
    routes,
    required: (req, res, next) => {
      if (same(cookieOf(req), session)) return next();
      if (req.method === 'GET') return res.redirect(303, '/admin/login');
      throw new AppError('UNAUTHENTICATED', 'sign in at /admin/login');
    },
  };
}

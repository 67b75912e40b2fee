// Signing in to the ops page: the admin token, once, for a session (domain/ops-session.ts) whose random
// id is the cookie (HttpOnly, SameSite=Strict, /admin only; Secure as the configuration says the shop is
// served). Logging out ends the session; wrong tokens count against the address (admin-guard.ts); every
// form post must come from this origin.
import express, { type Request, type RequestHandler, type Router } from 'express';
import { AppError } from '../../domain/errors';
import { OPS_SESSION_MAX_MS } from '../../domain/ops-session';
import { checkOpsSession, closeOpsSession, openOpsSession, type OpsSessionDeps } from '../../domain/ops-sign-in';
import type { AdminGuard } from '../admin-guard';
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
  /** Lets requests with a live session through; sends others to the sign-in page (GET) or refuses them. */
  required: RequestHandler;
}

export function opsSignIn(deps: { sessions: OpsSessionDeps; guard: AdminGuard; cookieSecure: 'always' | 'when-https' }): OpsSignIn {
  const cookieOf = (req: Request) => /(?:^|;\s*)ops_session=([\w-]+)/.exec(req.get('Cookie') ?? '')?.[1] ?? '';
  const signInPage = (note: string, error = true) => {
    const form = html`<form method="post" action="/admin/login" class="inline"><label>管理令牌 (ADMIN_TOKEN)<input type="password" name="token"
autocomplete="current-password" required autofocus></label><button type="submit">登录</button></form>`;
    const shown = note ? banner(note, error) : '';
    return page(
      '登录',
      html`<section class="narrow"><h2>运营后台登录</h2>${shown}${form}<p class="muted">令牌见服务器的 ADMIN_TOKEN；本地沙箱模式下见 DATA_DIR/admin_token。</p></section>`,
    );
  };

  const routes = express.Router();
  routes.get('/login', (req, res) => {
    const note =
      req.query.failed === '1' ? '管理令牌不正确，请检查 ADMIN_TOKEN 后重试' : req.query.ended === '1' ? '已退出，请重新登录' : '';
    res.type('html').send(signInPage(note, note !== '已退出，请重新登录'));
  });
  routes.post('/login', async (req, res) => {
    const wait = await deps.guard.blockedFor(req);
    if (wait) {
      deps.guard.limited(res, 'sign-in', wait);
      return res
        .status(429)
        .type('html')
        .send(signInPage(`尝试次数过多，请 ${wait} 秒后再试`));
    }
    const id = await openOpsSession(deps.sessions, typeof req.body?.token === 'string' ? req.body.token : '');
    if (!id) {
      await deps.guard.failed(req, 'sign-in');
      return res.redirect(303, '/admin/login?failed=1');
    }
    res.cookie(COOKIE, id, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/admin',
      secure: deps.cookieSecure === 'always' || req.secure,
      maxAge: OPS_SESSION_MAX_MS,
    });
    res.redirect(303, '/admin');
  });
  routes.post('/logout', async (req, res) => {
    await closeOpsSession(deps.sessions, cookieOf(req));
    res.clearCookie(COOKIE, { path: '/admin' });
    res.redirect(303, '/admin/login?ended=1');
  });
  return {
    routes,
    required: async (req, res, next) => {
      if (await checkOpsSession(deps.sessions, cookieOf(req))) return next();
      if (req.method === 'GET') return res.redirect(303, '/admin/login');
      throw new AppError('UNAUTHENTICATED', 'sign in at /admin/login');
    },
  };
}

// GET /sns/jscode2session, as api.weixin.qq.com answers it: HTTP 200 with an errcode on failure,
// codes valid 5 minutes and single use, 100 logins a minute per user.
import express, { type Router } from 'express';
import { randomNonce } from '../server/src/wechatpay/crypto';
import type { SandboxState } from './state';

export function code2sessionRoutes(s: SandboxState): Router {
  const r = express.Router();
  r.get('/sns/jscode2session', (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const answer = (body: Record<string, unknown>) => res.type('text/plain').send(JSON.stringify(body));
    const err = (errcode: number, errmsg: string) => answer({ errcode, errmsg: `${errmsg}, rid: ${randomNonce(8)}` });
    const forced = s.controls.code2sessionErrcode;
    if (forced && forced.times > 0) {
      forced.times -= 1;
      return err(forced.errcode, forced.errcode === -1 ? 'system error' : 'forced by the sandbox');
    }
    if (!q.appid) return err(41002, 'appid missing');
    if (!q.secret) return err(41004, 'appsecret missing');
    if (!q.js_code) return err(41008, 'invalid code: missing code');
    if (q.appid !== s.keys.appid) return err(40013, 'invalid appid');
    if (q.secret !== s.keys.appSecret) return err(40125, 'invalid appsecret');
    if (q.grant_type !== 'authorization_code') return err(40002, 'invalid grant_type');
    const c = s.codes.get(q.js_code);
    if (!c || c.expiresAt <= s.now()) return err(40029, 'invalid code');
    if (c.used) return err(40163, 'code been used');
    const w = s.loginRate.get(c.openid);
    const t = s.now();
    if (!w || t - w.start >= 60_000) s.loginRate.set(c.openid, { start: t, count: 1 });
    else if (++w.count > 100) return err(45011, 'api minute-quota reach limit  mustslower  retry next minute');
    c.used = true;
    const user = [...s.users.values()].find((u) => u.openid === c.openid)!;
    return answer({ openid: user.openid, session_key: user.sessionKey });
  });
  return r;
}

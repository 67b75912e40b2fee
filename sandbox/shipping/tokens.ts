// Access tokens as api.weixin.qq.com issues them (shipping.md §2): /cgi-bin/token rotates on every
// call, /cgi-bin/stable_token hands everyone the same token (forced refreshes at most 20 a day, 30 s
// apart), a replaced token works 5 more minutes; and the check every business API makes first.
import crypto from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { SandboxState } from '../state';
import { answer } from './common';

const TOKEN_TTL_S = 7200;
const OVERLAP_MS = 5 * 60_000;

interface Token {
  value: string;
  expiresAt: number;
  /** When a rotation replaced it: still valid for 5 minutes after. */
  replacedAt: number | null;
}

export interface SandboxTokens {
  routes: Router;
  /** A business API's handler behind the token check and WeChat's JSON body rules (HTTP 200 always). */
  business(handler: (req: Request, res: Response, body: Record<string, unknown>) => void): express.RequestHandler[];
  /** The token check alone (for GET APIs): null when the token is good, else WeChat's errcode and message. */
  check(token: string): [number, string] | null;
  /** Every token issued so far expires now (42001 on the next business call); returns how many. */
  expire(): number;
  issued(): number;
}

export function createSandboxTokens(s: SandboxState): SandboxTokens {
  const stable: Token[] = [];
  const plain: Token[] = [];
  let issued = 0;
  let forces: number[] = [];
  let lastForce = Number.NEGATIVE_INFINITY;

  const newToken = (family: Token[]): Token => {
    const now = s.now();
    for (const t of family) if (t.replacedAt === null) t.replacedAt = now;
    const t = {
      value: `${family === stable ? 'ST' : 'AT'}_${crypto.randomBytes(48).toString('base64url')}`,
      expiresAt: now + TOKEN_TTL_S * 1000,
      replacedAt: null,
    };
    family.push(t);
    while (family.length > 4) family.shift();
    issued += 1;
    return t;
  };
  const live = (family: Token[]) => family.find((t) => t.replacedAt === null && t.expiresAt > s.now()) ?? null;
  const credentialsProblem = (appid: unknown, secret: unknown): [number, string] | null => {
    if (!appid) return [41002, 'appid missing'];
    if (appid !== s.keys.appid) return [40013, 'invalid appid'];
    if (!secret) return [41004, 'appsecret missing'];
    if (secret !== s.keys.appSecret) return [40125, 'invalid appsecret'];
    return null;
  };

  const routes = express.Router();
  const json = express.json({ type: () => true, limit: '64kb', strict: false });
  routes.get('/cgi-bin/token', (req, res) => {
    const { grant_type: grant, appid, secret } = req.query as Record<string, string | undefined>;
    if (grant !== 'client_credential') return answer(res, 40002, 'invalid grant_type');
    const problem = credentialsProblem(appid, secret);
    if (problem) return answer(res, ...problem);
    // Every call rotates: the previous token keeps working for 5 minutes.
    const t = newToken(plain);
    res.json({ access_token: t.value, expires_in: TOKEN_TTL_S });
  });
  routes.all('/cgi-bin/stable_token', json, (req, res) => {
    if (req.method !== 'POST') return answer(res, 43002, 'require POST method');
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (b.grant_type !== 'client_credential') return answer(res, 40002, 'invalid grant_type');
    const problem = credentialsProblem(b.appid, b.secret);
    if (problem) return answer(res, ...problem);
    const now = s.now();
    let t = live(stable);
    if (b.force_refresh === true) {
      forces = forces.filter((f) => f > now - 86_400_000);
      // At most 20 a day, 30 s apart; a call too soon just returns the current token.
      if (now - lastForce >= 30_000 && forces.length < 20) {
        lastForce = now;
        forces.push(now);
        t = newToken(stable);
      }
    }
    // The platform rotates 5 minutes before expiry: expires_in is never below 300.
    if (!t || t.expiresAt - now < OVERLAP_MS) t = newToken(stable);
    res.json({ access_token: t.value, expires_in: Math.floor((t.expiresAt - now) / 1000) });
  });

  const check = (token: string): [number, string] | null => {
    if (!token) return [41001, 'access_token missing'];
    const now = s.now();
    const t = [...stable, ...plain].find((x) => x.value === token);
    if (!t) return [40001, 'invalid credential, access_token is invalid or not latest'];
    if (t.expiresAt <= now) return [42001, 'access_token expired'];
    if (t.replacedAt !== null && now - t.replacedAt > OVERLAP_MS)
      return [40001, 'invalid credential, access_token is invalid or not latest'];
    return null;
  };
  return {
    routes,
    check,
    business: (handler) => [
      express.text({ type: () => true, limit: '64kb' }),
      (req: Request, res: Response) => {
        if (req.method !== 'POST') return answer(res, 43002, 'require POST method');
        const token = typeof req.query.access_token === 'string' ? req.query.access_token : '';
        if (!token) return answer(res, 41001, 'access_token missing');
        const now = s.now();
        const t = [...stable, ...plain].find((x) => x.value === token);
        if (!t) return answer(res, 40001, 'invalid credential, access_token is invalid or not latest');
        if (t.expiresAt <= now) return answer(res, 42001, 'access_token expired');
        if (t.replacedAt !== null && now - t.replacedAt > OVERLAP_MS)
          return answer(res, 40001, 'invalid credential, access_token is invalid or not latest');
        const text = typeof req.body === 'string' ? req.body : '';
        if (!text.trim()) return answer(res, 44002, 'empty post data');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return answer(res, 47001, 'data format error');
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) return answer(res, 47001, 'data format error');
        handler(req, res, body as Record<string, unknown>);
      },
    ],
    expire() {
      for (const t of [...stable, ...plain]) t.expiresAt = Math.min(t.expiresAt, s.now());
      return stable.length + plain.length;
    },
    issued: () => issued,
  };
}

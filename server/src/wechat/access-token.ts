// The mini program's access_token, from POST /cgi-bin/stable_token (shipping.md §2): cached per
// process and renewed ahead of expiry, one fetch in flight however many callers wait. A business API
// that answers 40001 / 42001 / 40014 gets one forced refresh (at most one per 30 s, 20 a day, as WeChat
// allows) and one retry. Several processes need no shared cache: stable_token hands every caller the
// same token and rotates it with a 5-minute overlap. The token never appears in a log or an error.
import { httpCall } from './http';

/** WeChat's answer to a business call: `errcode` 0 or absent on success. */
export interface WechatAnswer {
  errcode?: number;
  errmsg?: string;
  [k: string]: unknown;
}

export class WechatApiError extends Error {
  constructor(
    /** null when WeChat could not be reached or did not answer JSON. */
    readonly errcode: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'WechatApiError';
  }
  /** Worth trying again later: WeChat says it is busy, or it could not be reached. */
  get retryable(): boolean {
    return this.errcode === null || this.errcode === -1 || this.errcode === 10060012 || this.errcode === 10060019 || this.errcode === 45011;
  }
}

export const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);
const FORCE_SPACING_MS = 30_000;
const FORCE_PER_DAY = 20;
/** Renew this long before the token's end (stable_token rotates at 5 minutes left; overlap covers the rest). */
const RENEW_AHEAD_MS = 4 * 60_000;

export interface AccessTokenOptions {
  baseUrl: string;
  appid: string;
  appSecret: string;
  now?: () => number;
  timeoutMs?: number;
}

export interface AccessTokens {
  /** Calls `fn` with a valid token; on a token errcode, refreshes once (forced) and calls again. */
  call<T extends WechatAnswer>(fn: (token: string) => Promise<T>): Promise<T>;
  /** How many tokens this process fetched (for tests and metrics). */
  fetches(): number;
}

export function createAccessTokens(o: AccessTokenOptions): AccessTokens {
  const now = o.now ?? Date.now;
  let cached: { token: string; expiresAt: number } | null = null;
  let inFlight: Promise<string> | null = null;
  let fetched = 0;
  let lastForce = -Infinity;
  const forces: number[] = [];

  async function fetchToken(force: boolean): Promise<string> {
    let body: WechatAnswer;
    try {
      const res = await httpCall(new URL('/cgi-bin/stable_token', o.baseUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credential',
          appid: o.appid,
          secret: o.appSecret,
          ...(force ? { force_refresh: true } : {}),
        }),
        timeoutMs: o.timeoutMs ?? 5000,
      });
      body = JSON.parse(res.text) as WechatAnswer;
    } catch (err) {
      throw new WechatApiError(null, `stable_token could not be reached (${(err as Error).name})`);
    }
    fetched += 1;
    if (body.errcode) throw new WechatApiError(body.errcode, `stable_token: ${body.errcode} ${String(body.errmsg ?? '').slice(0, 120)}`);
    const token = body.access_token;
    const expiresIn = Number(body.expires_in);
    if (typeof token !== 'string' || !token || !Number.isFinite(expiresIn) || expiresIn <= 0)
      throw new WechatApiError(null, 'stable_token answered without a token');
    cached = { token, expiresAt: now() + expiresIn * 1000 };
    return token;
  }

  /** One fetch at a time: every caller waiting for a token shares it. */
  function token(force = false): Promise<string> {
    if (!force && cached && cached.expiresAt - now() > RENEW_AHEAD_MS) return Promise.resolve(cached.token);
    inFlight ??= fetchToken(force).finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  /** A forced refresh only when WeChat would honour it; otherwise a plain fetch (it may have rotated). */
  function refresh(stale: string): Promise<string> {
    if (cached && cached.token !== stale) return Promise.resolve(cached.token); // another caller already renewed it
    const t = now();
    while (forces.length && forces[0]! <= t - 86_400_000) forces.shift();
    const mayForce = t - lastForce >= FORCE_SPACING_MS && forces.length < FORCE_PER_DAY;
    if (mayForce) {
      lastForce = t;
      forces.push(t);
    }
    cached = null;
    return token(mayForce);
  }

  return {
    async call(fn) {
      const t = await token();
      const first = await fn(t);
      if (!first.errcode || !TOKEN_ERRCODES.has(first.errcode)) return first;
      return fn(await refresh(t));
    },
    fetches: () => fetched,
  };
}

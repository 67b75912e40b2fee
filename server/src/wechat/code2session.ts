// Mini-program login: exchanges a wx.login code for openid and session_key.
// The AppSecret travels only in this request's query string: never log the URL.
import { httpCall, type HttpAnswer } from './http';
import { z } from 'zod';

/** WeChat's answer: an errcode, or the documented shapes of openid, unionid and session_key. */
const answerSchema = z.union([
  z.object({
    errcode: z.literal(0).optional(),
    openid: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/),
    unionid: z
      .string()
      .regex(/^[A-Za-z0-9_-]{6,64}$/)
      .optional(),
    session_key: z.string().regex(/^[A-Za-z0-9+/]{16,64}={0,2}$/),
  }),
  z.object({
    errcode: z
      .number()
      .int()
      .refine((c) => c !== 0),
    errmsg: z.string().optional(),
  }),
]);

export interface CodeSession {
  openid: string;
  unionid: string | null;
  sessionKey: string;
}

export interface Code2SessionClient {
  exchange(code: string): Promise<CodeSession>;
}

export interface Code2SessionOptions {
  baseUrl: string;
  appid: string;
  appSecret: string;
  timeoutMs?: number;
}

/** A failed exchange: WeChat's errcode when it answered, with predicates for what it means. */
export class WechatLoginError extends Error {
  constructor(
    /** null when WeChat could not be reached or answered with something that is not JSON. */
    readonly errcode: number | null,
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
    this.name = 'WechatLoginError';
  }
  /** The code is invalid, expired or already used: the mini program must call wx.login again. */
  get isCodeInvalid(): boolean {
    return this.errcode === 40029 || this.errcode === 40163 || this.errcode === 40226;
  }
  /** WeChat is busy or rate-limiting: the same call may succeed shortly. */
  get isBusy(): boolean {
    return this.errcode === -1 || this.errcode === 45011 || (this.httpStatus !== null && this.httpStatus >= 500);
  }
}

/** WeChat answers errors with HTTP 200 and an errcode. */
export function createCode2SessionClient(opts: Code2SessionOptions): Code2SessionClient {
  return {
    async exchange(code) {
      const url = new URL('/sns/jscode2session', opts.baseUrl);
      url.search = new URLSearchParams({
        appid: opts.appid,
        secret: opts.appSecret,
        js_code: code,
        grant_type: 'authorization_code',
      }).toString();
      let res: HttpAnswer;
      try {
        res = await httpCall(url, { method: 'GET', timeoutMs: opts.timeoutMs ?? 5000 });
      } catch (err) {
        throw new WechatLoginError(null, `code2Session could not be reached (${(err as Error).name})`);
      }
      const { text } = res;
      if (res.status >= 500) throw new WechatLoginError(null, `code2Session answered HTTP ${res.status}`, res.status);
      let json: unknown;
      try {
        // The Content-Type is often text/plain: parse the text regardless.
        json = JSON.parse(text);
      } catch {
        throw new WechatLoginError(null, 'code2Session answered with something that is not JSON', res.status);
      }
      const parsed = answerSchema.safeParse(json);
      // Anything else (an object for an openid, a missing session_key) is never let through to the store.
      if (!parsed.success) throw new WechatLoginError(null, 'code2Session answered with something that is not a session', res.status);
      const body = parsed.data;
      if ('openid' in body) return { openid: body.openid, unionid: body.unionid ?? null, sessionKey: body.session_key };
      throw new WechatLoginError(body.errcode, `code2Session failed (errcode ${body.errcode})`, res.status);
    },
  };
}

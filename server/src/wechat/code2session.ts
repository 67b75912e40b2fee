// Mini-program login: exchanges a wx.login code for openid and session_key.
// The AppSecret travels only in this request's query string: never log the URL.
import { AppError } from '../domain/errors';

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
  fetch?: typeof fetch;
}

/** WeChat answers errors with HTTP 200 and an errcode. */
export function createCode2SessionClient(opts: Code2SessionOptions): Code2SessionClient {
  const doFetch = opts.fetch ?? fetch;
  return {
    async exchange(code) {
      const url = new URL('/sns/jscode2session', opts.baseUrl);
      url.search = new URLSearchParams({
        appid: opts.appid,
        secret: opts.appSecret,
        js_code: code,
        grant_type: 'authorization_code',
      }).toString();
      let body: { openid?: string; unionid?: string; session_key?: string; errcode?: number; errmsg?: string };
      try {
        const res = await doFetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 5000) });
        if (res.status >= 500) throw new AppError('WECHAT_BUSY', 'WeChat login is busy; try again in a moment');
        // The Content-Type is often text/plain: parse the text regardless.
        body = JSON.parse(await res.text());
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('WECHAT_UNREACHABLE', 'WeChat login could not be reached; try again');
      }
      const errcode = body.errcode ?? 0;
      if (errcode === 0 && body.openid && body.session_key) {
        return { openid: body.openid, unionid: body.unionid ?? null, sessionKey: body.session_key };
      }
      if (errcode === 40029 || errcode === 40163 || errcode === 40226) {
        throw new AppError('WECHAT_CODE_INVALID', 'the login code is invalid, expired or already used; call wx.login again', {
          errcode,
        });
      }
      if (errcode === -1 || errcode === 45011) {
        throw new AppError('WECHAT_BUSY', 'WeChat login is busy; try again in a moment', { errcode });
      }
      // 40013/40125 and anything else: our configuration is wrong, not the shopper's code.
      throw new AppError('WECHAT_UNREACHABLE', `WeChat login failed (errcode ${errcode})`, { errcode });
    },
  };
}

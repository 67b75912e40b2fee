// The only caller of Taro.request. Adds the token, turns failures into ApiError, and on a 401
// logs in again once, silently, then repeats the request.
import Taro from '@tarojs/taro';
import type { ErrorResponse } from '../../server/src/http/schemas';
import { API_BASE } from './config';
import { ApiError } from './errors';

const TOKEN_KEY = 'checkout.token';

export function getToken(): string | null {
  return (Taro.getStorageSync(TOKEN_KEY) as string) || null;
}
export function setToken(token: string | null): void {
  if (token) Taro.setStorageSync(TOKEN_KEY, token);
  else Taro.removeStorageSync(TOKEN_KEY);
}

type Relogin = () => Promise<void>;
let relogin: Relogin | null = null;
/** auth.ts registers how to log in again; kept as a hook to avoid an import cycle. */
export function onUnauthorized(fn: Relogin): void {
  relogin = fn;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the bearer token and re-login on 401 (default true for API paths). */
  auth?: boolean;
}

/** Any URL: API paths are prefixed with API_BASE, absolute URLs (the sandbox) are used as they are. */
export async function request<T>(method: 'GET' | 'POST', url: string, opts: RequestOptions = {}, retried = false): Promise<T> {
  const auth = opts.auth ?? url.startsWith('/api/');
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...opts.headers };
  const token = auth ? getToken() : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Taro.request.SuccessCallbackResult<string | Record<string, unknown>>;
  try {
    res = await Taro.request({
      url: url.startsWith('/') ? `${API_BASE}${url}` : url,
      method,
      header: headers,
      data: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dataType: 'json',
      timeout: 15000,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'network request failed');
  }
  const data = typeof res.data === 'string' && res.data ? safeJson(res.data) : res.data;
  if (res.statusCode >= 200 && res.statusCode < 300) return data as T;
  if (res.statusCode === 401 && auth && !retried && relogin) {
    setToken(null);
    await relogin();
    return request<T>(method, url, opts, true);
  }
  const e = (data as ErrorResponse | null)?.error;
  throw new ApiError(res.statusCode, e?.code ?? `HTTP_${res.statusCode}`, e?.message ?? `HTTP ${res.statusCode}`, e?.field);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

// Login: wx.login (or the sandbox) → POST /api/auth/login → token in storage.
import type { LoginResponse } from '../../server/src/http/schemas';
import { getToken, onUnauthorized, request, setToken } from './http';
import { wxLogin } from './wx';

let inFlight: Promise<void> | null = null;

/** Logs in; concurrent callers share one attempt, so one wx.login code is used once. */
export function login(): Promise<void> {
  inFlight ??= (async () => {
    try {
      const code = await wxLogin();
      const res = await request<LoginResponse>('POST', '/api/auth/login', { body: { code }, auth: false });
      setToken(res.token);
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

export async function ensureLoggedIn(): Promise<void> {
  if (!getToken()) await login();
}

onUnauthorized(login);

// A shopper and a login session, as the domain and every store know them.

export interface User {
  id: string;
  openid: string;
  unionid: string | null;
  /** Server-side only: never in a response, never in a log. */
  sessionKey: string;
  createdAt: number;
}

export interface Session {
  tokenHash: string;
  userId: string;
  expiresAt: number;
}

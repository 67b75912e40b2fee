// A shopper and a login session, as the domain and every store know them.

export interface User {
  id: string;
  openid: string;
  unionid: string | null;
  /** WeChat's session_key, sealed (SecretSealer) before it is stored: never in a response, a log, or the database in the clear. */
  sessionKey: string;
  createdAt: number;
}

export interface Session {
  tokenHash: string;
  userId: string;
  expiresAt: number;
}

/** Seals secrets before they are stored, and opens them when the shop needs them. */
export interface SecretSealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

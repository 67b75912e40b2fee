// How the shop learns who a shopper is, in the shop's words. WeChat's code2Session is the adapter
// (server/src/identity/wechat-login.ts).

export interface ShopperIdentity {
  openid: string;
  unionid: string | null;
  /** Server-side only: never in a response, never in a log. */
  sessionKey: string;
}

export interface IdentityProvider {
  /** Exchanges a one-time login code from the mini program. */
  exchange(code: string): Promise<ShopperIdentity>;
}

export type IdentityFailure =
  /** The code is invalid, expired or used: the shopper's app must get a new one. */
  | 'CODE_INVALID'
  /** The provider is busy: try again shortly. */
  | 'BUSY'
  /** The provider could not be reached, or refused our own credentials. */
  | 'UNAVAILABLE';

export class IdentityProviderError extends Error {
  constructor(
    readonly failure: IdentityFailure,
    message: string,
    readonly providerCode: number | null = null,
  ) {
    super(message);
    this.name = 'IdentityProviderError';
  }
}

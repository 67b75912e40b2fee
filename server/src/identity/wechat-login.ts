// The identity port over WeChat's code2Session: maps WeChat's errcodes to the shop's failures.
import { WechatLoginError, type Code2SessionClient } from '../wechat/code2session';
import { IdentityProviderError, type IdentityProvider } from '../domain/ports/identity-provider';

export function wechatLogin(client: Code2SessionClient): IdentityProvider {
  return {
    async exchange(code) {
      try {
        return await client.exchange(code);
      } catch (err) {
        if (!(err instanceof WechatLoginError)) throw err;
        if (err.isCodeInvalid) throw new IdentityProviderError('CODE_INVALID', err.message, err.errcode);
        if (err.isBusy) throw new IdentityProviderError('BUSY', err.message, err.errcode);
        // 40013/40125 and anything else: our configuration is wrong, not the shopper's code.
        throw new IdentityProviderError('UNAVAILABLE', err.message, err.errcode);
      }
    },
  };
}

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, notifyUrlProblem } from '../src/config';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.join('\n');
    throw e;
  }
  return 'ok';
};

const live = {
  WECHAT_APPID: 'wxd678efh567hg6787',
  WECHAT_APP_SECRET: 's'.repeat(32),
  WECHATPAY_MCHID: '1230000109',
  WECHATPAY_PRIVATE_KEY_FILE: '/keys/apiclient_key.pem',
  WECHATPAY_CERT_SERIAL: '3775B6A45ACD588826D15E583A95F5DD12345678',
  WECHATPAY_APIV3_KEY: 'a'.repeat(32),
  WECHATPAY_PUBLIC_KEY_FILE: '/keys/pub_key.pem',
  WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0000000000000024101100397200000006',
  WECHATPAY_NOTIFY_URL: 'https://shop.example.com/api/wechatpay/notify',
};

describe('configuration', () => {
  it('needs nothing for sandbox mode', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, sandboxPort: 3100, host: '127.0.0.1', dataDir: './data', mode: { kind: 'sandbox' } });
    expect(c.mongodbUri).toBeUndefined();
  });

  it('names the variable in every error', () => {
    expect(problems({ PORT: 'eighty' })).toMatch(/^PORT:/);
    expect(problems({ SANDBOX_PORT: '70000' })).toMatch(/^SANDBOX_PORT:/);
    expect(problems({ MONGODB_URI: 'postgres://x' })).toMatch(/^MONGODB_URI: must start with mongodb/);
    expect(problems({ LOG_LEVEL: 'loud' })).toMatch(/^LOG_LEVEL:/);
    expect(problems({ WECHATPAY_MCHID: '1230000109' })).toMatch(/WECHATPAY_MCHID: set, but WECHAT_APPID is not/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ MONGODB_URI: '', WECHAT_APPID: '' }).mode.kind).toBe('sandbox');
  });

  it('takes live mode with a public key, with platform certificates, or both', () => {
    expect(loadConfig(live).mode).toMatchObject({ kind: 'live', credentials: { appid: live.WECHAT_APPID, publicKey: { id: live.WECHATPAY_PUBLIC_KEY_ID } } });
    const certsOnly = { ...live, WECHATPAY_PUBLIC_KEY_FILE: '', WECHATPAY_PUBLIC_KEY_ID: '', WECHATPAY_PLATFORM_CERT_FILES: '/a.pem, /b.pem' };
    expect(loadConfig(certsOnly).mode).toMatchObject({ credentials: { platformCertFiles: ['/a.pem', '/b.pem'], publicKey: undefined } });
    expect(loadConfig({ ...live, WECHATPAY_PLATFORM_CERT_FILES: '/a.pem' }).mode).toMatchObject({ credentials: { platformCertFiles: ['/a.pem'], publicKey: { id: live.WECHATPAY_PUBLIC_KEY_ID } } });
  });

  it('lists every missing live variable', () => {
    const p = problems({ WECHAT_APPID: live.WECHAT_APPID });
    for (const k of ['WECHAT_APP_SECRET', 'WECHATPAY_MCHID', 'WECHATPAY_PRIVATE_KEY_FILE', 'WECHATPAY_CERT_SERIAL', 'WECHATPAY_APIV3_KEY', 'WECHATPAY_NOTIFY_URL']) expect(p).toContain(k);
    expect(p).toMatch(/public key or platform certificates/);
    expect(problems({ ...live, WECHATPAY_PUBLIC_KEY_ID: '' })).toMatch(/set both or neither/);
  });

  it('catches the classic key mistakes', () => {
    expect(problems({ ...live, WECHATPAY_APIV3_KEY: 'a'.repeat(34) })).toMatch(/WECHATPAY_APIV3_KEY: must be exactly 32/);
    expect(problems({ ...live, WECHAT_APPID: 'wx123' })).toMatch(/WECHAT_APPID/);
    expect(problems({ ...live, WECHATPAY_PUBLIC_KEY_ID: '0000024101100397200000006' })).toMatch(/PUB_KEY_ID_/);
  });

  it('refuses notify URLs WeChat would never call', () => {
    expect(notifyUrlProblem('http://shop.example.com/n')).toMatch(/https/);
    expect(notifyUrlProblem('https://shop.example.com/n?order=1')).toMatch(/query/);
    expect(notifyUrlProblem('https://shop.example.com:8443/n')).toMatch(/port/);
    expect(notifyUrlProblem('https://localhost/n')).toMatch(/public/);
    expect(notifyUrlProblem('https://shop.example.com/api/wechatpay/notify')).toBeNull();
    expect(problems({ ...live, WECHATPAY_NOTIFY_URL: 'http://x.example.com/n' })).toMatch(/^WECHATPAY_NOTIFY_URL: must use https/);
  });
});

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
  it('needs WeChat credentials, and names every missing one', () => {
    const p = problems({});
    for (const k of ['WECHAT_APPID', 'WECHAT_APP_SECRET', 'WECHATPAY_MCHID', 'WECHATPAY_PRIVATE_KEY_FILE', 'WECHATPAY_CERT_SERIAL', 'WECHATPAY_APIV3_KEY', 'WECHATPAY_NOTIFY_URL']) {
      expect(p).toContain(`${k}: required`);
    }
    expect(p).toMatch(/WECHATPAY_PLATFORM_CERT_FILES: required to verify WeChat Pay/);
  });

  it('has defaults for everything else', () => {
    const c = loadConfig(live);
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', dataDir: './data', sandboxUrl: null, warnings: [] });
    expect(c.mongodbUri).toBeUndefined();
  });

  it('names the variable in every error', () => {
    expect(problems({ ...live, PORT: 'eighty' })).toMatch(/^PORT:/);
    expect(problems({ ...live, MONGODB_URI: 'postgres://x' })).toMatch(/^MONGODB_URI: must start with mongodb/);
    expect(problems({ ...live, LOG_LEVEL: 'loud' })).toMatch(/^LOG_LEVEL:/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...live, MONGODB_URI: '' }).mongodbUri).toBeUndefined();
    expect(problems({ ...live, WECHAT_APPID: '' })).toMatch(/WECHAT_APPID: required/);
  });

  it('takes live mode with a public key, with platform certificates, or both', () => {
    expect(loadConfig(live).wechat).toMatchObject({ appid: live.WECHAT_APPID, publicKey: { id: live.WECHATPAY_PUBLIC_KEY_ID } });
    const certsOnly = { ...live, WECHATPAY_PUBLIC_KEY_FILE: '', WECHATPAY_PUBLIC_KEY_ID: '', WECHATPAY_PLATFORM_CERT_FILES: '/a.pem, /b.pem' };
    expect(loadConfig(certsOnly).wechat).toMatchObject({ platformCertFiles: ['/a.pem', '/b.pem'], publicKey: undefined });
    expect(loadConfig({ ...live, WECHATPAY_PLATFORM_CERT_FILES: '/a.pem' }).wechat).toMatchObject({ platformCertFiles: ['/a.pem'], publicKey: { id: live.WECHATPAY_PUBLIC_KEY_ID } });
  });

  it('wants the public key file and its id together', () => {
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

  it('accepts plain http to this machine only when WeChat is the local sandbox', () => {
    const local = { ...live, WECHATPAY_NOTIFY_URL: 'http://127.0.0.1:3000/api/wechatpay/notify' };
    expect(problems(local)).toMatch(/^WECHATPAY_NOTIFY_URL: must use https/);
    expect(loadConfig({ ...local, SANDBOX_URL: 'http://127.0.0.1:3100' }).sandboxUrl).toBe('http://127.0.0.1:3100');
    expect(problems({ ...local, WECHATPAY_NOTIFY_URL: 'http://shop.example.com/n', SANDBOX_URL: 'http://127.0.0.1:3100' })).toMatch(/must use https/);
  });
});

describe('the sandbox is safe by default', () => {
  const sandboxed = { ...live, WECHATPAY_NOTIFY_URL: 'http://127.0.0.1:3000/api/wechatpay/notify', SANDBOX_URL: 'http://127.0.0.1:3100' };

  it('refuses to run against the sandbox in production', () => {
    expect(problems({ ...sandboxed, NODE_ENV: 'production' })).toMatch(/^SANDBOX_URL: NODE_ENV=production, but WeChat is the local sandbox.*UNSAFE_ALLOW_SANDBOX=true/);
  });

  it('refuses to run against the sandbox on a public interface', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'shop.example.com']) {
      expect(problems({ ...sandboxed, HOST: host })).toMatch(new RegExp(`HOST=${host.replace(/\./g, '\\.')} is not a loopback address`));
    }
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(problems({ ...sandboxed, HOST: host })).toBe('ok');
  });

  it('starts with the documented opt-in, with a warning that names the risk', () => {
    const c = loadConfig({ ...sandboxed, NODE_ENV: 'production', HOST: '0.0.0.0', UNSAFE_ALLOW_SANDBOX: 'true' });
    expect(c.warnings.join('\n')).toMatch(/anyone who reaches this server or the sandbox can pay any order/);
  });

  it('never applies to WeChat itself', () => {
    expect(loadConfig({ ...live, NODE_ENV: 'production', HOST: '0.0.0.0' }).warnings).toEqual([]);
  });
});

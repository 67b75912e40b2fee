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
  DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('configuration', () => {
  it('needs WeChat credentials, and names every missing one', () => {
    const p = problems({});
    for (const k of [
      'WECHAT_APPID',
      'WECHAT_APP_SECRET',
      'WECHATPAY_MCHID',
      'WECHATPAY_PRIVATE_KEY_FILE',
      'WECHATPAY_CERT_SERIAL',
      'WECHATPAY_APIV3_KEY',
      'WECHATPAY_NOTIFY_URL',
    ]) {
      expect(p).toContain(`${k}: required`);
    }
    // With neither a WeChat Pay public key nor certificate files, the server downloads the platform certificates.
    expect(p).not.toMatch(/WECHATPAY_PLATFORM_CERT_FILES/);
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
    expect(loadConfig(live).wechat).toMatchObject({ appid: live.WECHAT_APPID });
    expect(loadConfig(live).wechatPay).toMatchObject({ version: 'v3', publicKey: { id: live.WECHATPAY_PUBLIC_KEY_ID } });
    const certsOnly = {
      ...live,
      WECHATPAY_PUBLIC_KEY_FILE: '',
      WECHATPAY_PUBLIC_KEY_ID: '',
      WECHATPAY_PLATFORM_CERT_FILES: '/a.pem, /b.pem',
    };
    expect(loadConfig(certsOnly).wechatPay).toMatchObject({ platformCertFiles: ['/a.pem', '/b.pem'], publicKey: undefined });
    expect(loadConfig({ ...live, WECHATPAY_PLATFORM_CERT_FILES: '/a.pem' }).wechatPay).toMatchObject({
      platformCertFiles: ['/a.pem'],
      publicKey: { id: live.WECHATPAY_PUBLIC_KEY_ID },
    });
  });

  it('takes API v2 with its own variables, and says which are missing', () => {
    const v2 = {
      WECHATPAY_API_VERSION: 'v2',
      WECHAT_APPID: live.WECHAT_APPID,
      WECHAT_APP_SECRET: live.WECHAT_APP_SECRET,
      WECHATPAY_MCHID: live.WECHATPAY_MCHID,
      WECHATPAY_NOTIFY_URL: live.WECHATPAY_NOTIFY_URL,
      DATA_ENCRYPTION_KEY: live.DATA_ENCRYPTION_KEY,
      WECHATPAY_APIV2_KEY: 'k'.repeat(32),
    };
    expect(loadConfig(v2).wechatPay).toEqual({
      version: 'v2',
      apiKey: 'k'.repeat(32),
      signType: 'MD5',
      tls: undefined,
      refundBase: 'https://api.mch.weixin.qq.com',
      clientIp: '127.0.0.1',
    });
    expect(loadConfig({ ...v2, WECHATPAY_V2_SIGN_TYPE: 'HMAC-SHA256' }).wechatPay).toMatchObject({ signType: 'HMAC-SHA256' });
    expect(problems({ ...v2, WECHATPAY_APIV2_KEY: '' })).toMatch(/^WECHATPAY_APIV2_KEY: required for API v2$/m);
    expect(problems({ ...v2, WECHATPAY_APIV2_KEY: 'short' })).toMatch(/^WECHATPAY_APIV2_KEY: must be the 32-character APIv2 key/);
    expect(problems({ ...v2, WECHATPAY_V2_SIGN_TYPE: 'SHA1' })).toMatch(/^WECHATPAY_V2_SIGN_TYPE:/);
    expect(problems({ ...v2, WECHATPAY_CERT_FILE: '/keys/apiclient_cert.pem' })).toMatch(
      /WECHATPAY_CERT_FILE and WECHATPAY_PRIVATE_KEY_FILE: set both/,
    );
    expect(
      problems({ ...v2, WECHATPAY_V2_CA_FILE: '/ca.pem', WECHATPAY_CERT_FILE: '/c.pem', WECHATPAY_PRIVATE_KEY_FILE: '/k.pem' }),
    ).toMatch(/WECHATPAY_V2_CA_FILE: only a sandbox/);
    // v3's variables are not asked for in v2, nor v2's in v3.
    expect(problems(v2)).toBe('ok');
    expect(problems({ ...v2, WECHATPAY_API_VERSION: 'v3' })).toMatch(/WECHATPAY_APIV3_KEY: required for API v3/);
  });

  it('wants the public key file and its id together', () => {
    expect(problems({ ...live, WECHATPAY_PUBLIC_KEY_ID: '' })).toMatch(/set both or neither/);
  });

  it('catches the classic key mistakes', () => {
    expect(problems({ ...live, WECHATPAY_APIV3_KEY: 'a'.repeat(34) })).toMatch(/WECHATPAY_APIV3_KEY: must be exactly 32/);
    expect(problems({ ...live, WECHAT_APPID: 'wx123' })).toMatch(/WECHAT_APPID/);
    expect(problems({ ...live, WECHATPAY_PUBLIC_KEY_ID: '0000024101100397200000006' })).toMatch(/PUB_KEY_ID_/);
  });

  it('refuses notify URLs WeChat would never call, or that are not our notify route', () => {
    const route = '/api/wechatpay/notify';
    expect(notifyUrlProblem(`http://shop.example.com${route}`)).toMatch(/https/);
    expect(notifyUrlProblem(`https://shop.example.com${route}?order=1`)).toMatch(/query/);
    expect(notifyUrlProblem(`https://shop.example.com:8443${route}`)).toMatch(/port/);
    expect(notifyUrlProblem(`https://shop.example.com${route}`)).toBeNull();
    expect(notifyUrlProblem(`https://shop.example.com/shop${route}`)).toBeNull(); // behind a path prefix
    expect(problems({ ...live, WECHATPAY_NOTIFY_URL: `http://x.example.com${route}` })).toMatch(/^WECHATPAY_NOTIFY_URL: must use https/);
    // Each of these was accepted before: none is a public address, or none is our route.
    const refused: [string, RegExp][] = [
      [`https://localhost${route}`, /local name/],
      [`https://0.0.0.0${route}`, /unspecified/],
      [`https://[::1]${route}`, /loopback/],
      [`https://127.0.0.1${route}`, /loopback/],
      [`https://169.254.169.254${route}`, /linkLocal/],
      [`https://100.64.1.2${route}`, /carrierGradeNat/],
      [`https://10.1.2.3${route}`, /private/],
      [`https://[fd00::1]${route}`, /uniqueLocal/],
      [`https://[::ffff:192.168.1.1]${route}`, /private/],
      [`https://user:pass@shop.example.com${route}`, /credentials/],
      [`https://shop.example.com${route}#frag`, /fragment/],
      ['https://shop.example.com/api/other', /must end with \/api\/wechatpay\/notify/],
    ];
    for (const [url, why] of refused) expect(notifyUrlProblem(url), url).toMatch(why);
  });

  it('refuses WeChat API bases that are not https', () => {
    for (const base of ['http://api.mch.weixin.qq.com', 'file:///etc/passwd']) {
      expect(problems({ ...live, WECHATPAY_API_BASE: base })).toMatch(/^WECHATPAY_API_BASE: must use https/);
      expect(problems({ ...live, WECHAT_API_BASE: base })).toMatch(/^WECHAT_API_BASE: must use https/);
    }
    // Only a sandbox on this machine may be plain http.
    const sandboxed = { ...live, SANDBOX_URL: 'http://127.0.0.1:3100', WECHATPAY_NOTIFY_URL: 'http://127.0.0.1:3000/api/wechatpay/notify' };
    expect(problems({ ...sandboxed, WECHATPAY_API_BASE: 'http://127.0.0.1:3100', WECHAT_API_BASE: 'http://127.0.0.1:3100' })).toBe('ok');
    expect(problems({ ...sandboxed, WECHATPAY_API_BASE: 'http://203.0.113.5' })).toMatch(/WECHATPAY_API_BASE: must use https/);
  });

  it('needs a 32-byte data key, and reads TRUST_PROXY strictly', () => {
    expect(problems({ ...live, DATA_ENCRYPTION_KEY: 'short' })).toMatch(/^DATA_ENCRYPTION_KEY: must be 32 bytes/);
    expect(loadConfig({ ...live, DATA_ENCRYPTION_KEY: 'ab'.repeat(32) }).dataKey).toHaveLength(32);
    expect(loadConfig(live).trustProxy).toBe(false);
    expect(loadConfig({ ...live, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ ...live, TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
    expect(problems({ ...live, TRUST_PROXY: 'true' })).toMatch(/^TRUST_PROXY: true: trusting every hop/);
    expect(problems({ ...live, TRUST_PROXY: 'my-proxy' })).toMatch(/^TRUST_PROXY: my-proxy is not an address/);
  });

  it('accepts plain http to this machine only when WeChat is the local sandbox', () => {
    const local = { ...live, WECHATPAY_NOTIFY_URL: 'http://127.0.0.1:3000/api/wechatpay/notify' };
    expect(problems(local)).toMatch(/^WECHATPAY_NOTIFY_URL: must use https/);
    expect(loadConfig({ ...local, SANDBOX_URL: 'http://127.0.0.1:3100' }).sandboxUrl).toBe('http://127.0.0.1:3100');
    expect(
      problems({ ...local, WECHATPAY_NOTIFY_URL: 'http://shop.example.com/api/wechatpay/notify', SANDBOX_URL: 'http://127.0.0.1:3100' }),
    ).toMatch(/must use https/);
  });
});

describe('the sandbox is safe by default', () => {
  const sandboxed = { ...live, WECHATPAY_NOTIFY_URL: 'http://127.0.0.1:3000/api/wechatpay/notify', SANDBOX_URL: 'http://127.0.0.1:3100' };

  it('refuses to run against the sandbox in production', () => {
    expect(problems({ ...sandboxed, NODE_ENV: 'production' })).toMatch(
      /^SANDBOX_URL: NODE_ENV=production, but WeChat is the local sandbox.*UNSAFE_ALLOW_SANDBOX=true/,
    );
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

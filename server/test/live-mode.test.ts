// Live mode's wiring (key files, public-key and platform-certificate verification, WeChat hosts
// from config) against the sandbox standing in for api.weixin.qq.com and api.mch.weixin.qq.com.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../../sandbox/app';
import { generateSandboxKeys } from '../../sandbox/keys';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer, type Server } from '../src/server';
import { httpJson } from './system-process';
import { tempDir, waitFor } from './helpers';

const fixtures = path.join(__dirname, 'fixtures/wechat');
const certPem = fs.readFileSync(path.join(fixtures, 'wechatpay-go-test-cert-D7CE59D1F522D701.pem'), 'utf8');
const certKeyPem = fs.readFileSync(path.join(fixtures, 'wechatpay-go-test-private-key.pem'), 'utf8');

describe('live mode key files', () => {
  it('names the variable and the problem when a key file is missing, the wrong kind, or not RSA-2048', async () => {
    const keys = generateSandboxKeys();
    const dir = tempDir('live-keys-');
    const write = (name: string, text: string) => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const env = {
      PORT: '0',
      DATA_DIR: dir,
      WECHAT_APPID: keys.appid,
      WECHAT_APP_SECRET: keys.appSecret,
      WECHATPAY_MCHID: keys.mchid,
      WECHATPAY_PRIVATE_KEY_FILE: write('key.pem', keys.merchantPrivateKeyPem),
      WECHATPAY_CERT_SERIAL: keys.merchantSerial,
      WECHATPAY_APIV3_KEY: keys.apiV3Key,
      WECHATPAY_PUBLIC_KEY_FILE: write('pub.pem', keys.platformPublicKeyPem),
      WECHATPAY_PUBLIC_KEY_ID: keys.publicKeyId,
      WECHATPAY_NOTIFY_URL: 'https://shop.example.com/api/wechatpay/notify',
      DATA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      RECONCILE_INTERVAL_SECONDS: '0',
    };
    const problem = async (over: Record<string, string>) => {
      const err = await startServer(loadConfig({ ...env, ...over }), { logger: createLogger('silent') }).then(
        async (rt: Server) => {
          await rt.close();
          return null;
        },
        (e: Error) => e.message,
      );
      return err;
    };
    expect(await problem({ WECHATPAY_PRIVATE_KEY_FILE: path.join(dir, 'missing.pem') })).toMatch(
      /WECHATPAY_PRIVATE_KEY_FILE: cannot read .*missing\.pem \(ENOENT\)/,
    );
    expect(await problem({ WECHATPAY_PRIVATE_KEY_FILE: write('cert-instead.pem', certPem) })).toMatch(
      /WECHATPAY_PRIVATE_KEY_FILE: .* is not a PEM private key/,
    );
    const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await problem({ WECHATPAY_PRIVATE_KEY_FILE: write('small.pem', small) })).toMatch(/at least 2048 bits/);
    expect(await problem({ WECHATPAY_PUBLIC_KEY_FILE: write('garbage.pem', 'not a key') })).toMatch(
      /WECHATPAY_PUBLIC_KEY_FILE: .* is not a PEM public key/,
    );
    expect(await problem({})).toBeNull();
  });
});

for (const signWith of ['publicKey', 'certificate'] as const) {
  describe(`live mode, WeChat Pay signing with its ${signWith === 'publicKey' ? 'public key (PUB_KEY_ID_…)' : 'platform certificate'}`, () => {
    const keys = generateSandboxKeys();
    let sandbox: Sandbox;
    let sandboxServer: http.Server;
    let runtime: Server;

    beforeAll(async () => {
      // Never deliver to the public notify URL live mode insists on: this machine has no network.
      sandbox = createSandbox({
        keys,
        certificate: { pem: certPem, privateKeyPem: certKeyPem },
        controls: { signWith, dropNotifications: Number.POSITIVE_INFINITY },
      });
      sandboxServer = http.createServer(sandbox.app).listen(0, '127.0.0.1');
      await new Promise((r) => sandboxServer.once('listening', r));
      const base = `http://127.0.0.1:${(sandboxServer.address() as AddressInfo).port}`;
      const dir = tempDir('live-');
      const file = (name: string, text: string) => {
        fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
        return path.join(dir, name);
      };
      const config = loadConfig({
        PORT: '0',
        DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        RECONCILE_INTERVAL_SECONDS: '0',
        ORDER_QUERY_THROTTLE_MS: '0',
        WECHAT_APPID: keys.appid,
        WECHAT_APP_SECRET: keys.appSecret,
        WECHATPAY_MCHID: keys.mchid,
        WECHATPAY_PRIVATE_KEY_FILE: file('apiclient_key.pem', keys.merchantPrivateKeyPem),
        WECHATPAY_CERT_SERIAL: keys.merchantSerial,
        WECHATPAY_APIV3_KEY: keys.apiV3Key,
        ...(signWith === 'publicKey'
          ? { WECHATPAY_PUBLIC_KEY_FILE: file('pub_key.pem', keys.platformPublicKeyPem), WECHATPAY_PUBLIC_KEY_ID: keys.publicKeyId }
          : { WECHATPAY_PLATFORM_CERT_FILES: file('wechatpay_cert.pem', certPem) }),
        WECHATPAY_NOTIFY_URL: 'https://shop.example.com/api/wechatpay/notify',
        DATA_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
        // WeChat's hosts are the sandbox here, on plain http: only a configuration that says so may use http.
        SANDBOX_URL: base,
        WECHAT_API_BASE: base,
        WECHATPAY_API_BASE: base,
      });
      expect(config.wechat.wechatPayApiBase).toBe(base);
      runtime = await startServer(config, { logger: createLogger('silent') });
    });
    afterAll(async () => {
      await runtime?.close();
      sandbox.stop();
      sandboxServer.close();
    });

    it('logs in, creates an order with a verified prepay_id, and confirms the payment by query', async () => {
      const { code } = sandbox.issueCode('live-shopper');
      const login = await httpJson('POST', `${runtime.apiUrl}/api/auth/login`, { body: { code } });
      expect(login.status).toBe(200);
      const token = login.body.token;
      const created = await httpJson('POST', `${runtime.apiUrl}/api/orders`, {
        token,
        body: { items: [{ sku: 'MUG-CERAMIC', quantity: 1 }] },
      });
      expect(created.status).toBe(201);
      const pay = await httpJson('POST', `${base()}/sandbox/pay`, { body: { ...created.body.payment, outcome: 'success' } });
      expect(pay.body.errMsg).toBe('requestPayment:ok');
      await waitFor(
        async () =>
          (await httpJson('GET', `${runtime.apiUrl}/api/orders/${created.body.order.id}`, { token })).body.order.status === 'PAID',
        3000,
      );
    });

    const base = () => `http://127.0.0.1:${(sandboxServer.address() as AddressInfo).port}`;
  });
}

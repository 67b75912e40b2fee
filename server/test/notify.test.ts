// POST /api/wechatpay/notify: one test per rejection reason, the business checks, duplicates
// and races. Every notification here is built and signed the way WeChat builds it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSandboxKeys, type SandboxKeys } from '../../sandbox/keys';
import { buildNotification, signEnvelope, type NotificationSigner } from '../../sandbox/notify';
import { aesGcmEncrypt } from '../src/wechatpay/crypto';
import { startTestSystem, type TestSystem } from './helpers';
import { figure } from './figures';

let sys: TestSystem;
let keys: SandboxKeys;
let signer: NotificationSigner;
const fixtures = path.join(__dirname, 'fixtures/wechat');
const cert = {
  pem: fs.readFileSync(path.join(fixtures, 'wechatpay-go-test-cert-D7CE59D1F522D701.pem'), 'utf8'),
  privateKeyPem: fs.readFileSync(path.join(fixtures, 'wechatpay-go-test-private-key.pem'), 'utf8'),
};

beforeAll(async () => {
  // Combined mode: the server trusts the sandbox's public key and the test platform certificate.
  sys = await startTestSystem({ system: { certificate: cert } });
  keys = ensureSandboxKeys(sys.dataDir);
  signer = sys.sandbox.signer();
});
const held: string[] = [];
afterAll(async () => {
  figure(
    'notification-rejections',
    `${held.length} forged or malformed deliveries refused or recorded as specified, no state change: ${held.join('; ')}`,
    { cases: held.length },
  );
  await sys.close();
});

async function pendingOrder() {
  const token = await sys.login();
  const { order } = await sys.checkout(token, [{ sku: 'DRIP-BAGS-10', quantity: 2 }]);
  return { token, order };
}

function transactionFor(order: { outTradeNo: string; total: number }, over: Record<string, unknown> = {}) {
  return {
    appid: keys.appid,
    mchid: keys.mchid,
    out_trade_no: order.outTradeNo,
    transaction_id: `4200000${Date.now()}${crypto.randomInt(1e6)}`.slice(0, 28).padEnd(28, '0'),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2026-11-28T10:00:00+08:00',
    payer: { openid: 'o_test' },
    amount: { total: order.total, payer_total: order.total, currency: 'CNY', payer_currency: 'CNY' },
    ...over,
  };
}

async function send(d: { body: string; headers: Record<string, string> }) {
  const res = await fetch(`${sys.api}/api/wechatpay/notify`, { method: 'POST', body: d.body, headers: d.headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function status(token: string, id: string) {
  return (await sys.request('GET', `/api/orders/${id}`, { token })).body.order;
}

describe('notification rejected before it is trusted (4xx, {"code":"FAIL"}, no state change)', () => {
  const cases: [
    string,
    (d: { body: string; headers: Record<string, string> }) => { body: string; headers: Record<string, string> },
    number,
  ][] = [
    ['missing Wechatpay-Signature', (d) => ({ body: d.body, headers: { ...d.headers, 'Wechatpay-Signature': '' } }), 400],
    ['missing Wechatpay-Serial', (d) => ({ body: d.body, headers: omit(d.headers, 'Wechatpay-Serial') }), 400],
    ['a timestamp that is not a number', (d) => ({ body: d.body, headers: { ...d.headers, 'Wechatpay-Timestamp': 'soon' } }), 400],
    ['a stale timestamp (6 minutes old)', (d) => resign(d, Date.now() - 6 * 60_000), 400],
    ['a future timestamp (6 minutes ahead)', (d) => resign(d, Date.now() + 6 * 60_000), 400],
    [
      'a WECHATPAY/SIGNTEST/ probe',
      (d) => ({ body: d.body, headers: { ...d.headers, 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/ABCDEFG' } }),
      401,
    ],
    [
      'an unsupported signature type',
      (d) => ({ body: d.body, headers: { ...d.headers, 'Wechatpay-Signature-Type': 'WECHATPAY2-SM2-WITH-SM3' } }),
      400,
    ],
    [
      'a wrong serial',
      (d) => ({ body: d.body, headers: { ...d.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_0000000000000000000000000000000' } }),
      400,
    ],
    ['a tampered body', (d) => ({ body: d.body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" '), headers: d.headers }), 401],
    [
      'a signature by another key',
      (d) =>
        signEnvelope(
          d.body,
          { serial: signer.serial, privateKey: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey },
          Date.now(),
        ),
      401,
    ],
  ];

  for (const [name, mutate, expected] of cases) {
    it(`refuses ${name}`, async () => {
      const { token, order } = await pendingOrder();
      const before = await sys.server.store.countRejectedNotifications();
      const res = await send(mutate(buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionFor(order) })));
      expect(res.status).toBe(expected);
      expect(res.body).toMatchObject({ code: 'FAIL', message: expect.any(String) });
      expect((await status(token, order.id)).status).toBe('PENDING');
      expect(await sys.server.store.countRejectedNotifications()).toBe(before + 1);
      held.push(`${name} → ${res.status}`);
    });
  }

  it('refuses a signed body that is not a notification', async () => {
    expect((await send(signEnvelope('{"hello":"world"}', signer, Date.now()))).status).toBe(400);
  });

  it('refuses an unsupported algorithm', async () => {
    const { order } = await pendingOrder();
    const d = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionFor(order) });
    const env = JSON.parse(d.body);
    env.resource.algorithm = 'AEAD_SM4_GCM';
    expect((await send(signEnvelope(JSON.stringify(env), signer, Date.now()))).status).toBe(400);
  });

  it('refuses a resource encrypted with another APIv3 key', async () => {
    const { token, order } = await pendingOrder();
    const d = buildNotification({ apiV3Key: 'Z'.repeat(32), signer, transaction: transactionFor(order) });
    const res = await send(d);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/decrypt/);
    expect((await status(token, order.id)).status).toBe('PENDING');
  });

  it('refuses a resource that decrypts to something other than a transaction', async () => {
    const env = {
      id: crypto.randomUUID(),
      create_time: '2026-11-28T10:00:00+08:00',
      resource_type: 'encrypt-resource',
      event_type: 'TRANSACTION.SUCCESS',
      resource: {
        original_type: 'transaction',
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: aesGcmEncrypt(keys.apiV3Key, 'abcdefghijkl', 'transaction', '[1,2]'),
        associated_data: 'transaction',
        nonce: 'abcdefghijkl',
      },
    };
    expect((await send(signEnvelope(JSON.stringify(env), signer, Date.now()))).status).toBe(400);
  });
});

describe('verified notifications: business checks', () => {
  it('marks a matching SUCCESS paid, in public-key mode', async () => {
    const { token, order } = await pendingOrder();
    const d = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionFor(order) });
    const before = sys.server.store.commitStats!();
    const res = await send(d);
    const after = sys.server.store.commitStats!();
    expect(res.status).toBe(204);
    // The transition, the payment's record and the notification's: one write, one fsync'd commit.
    expect({ writes: after.writes - before.writes, commits: after.commits - before.commits }).toEqual({ writes: 1, commits: 1 });
    expect((await status(token, order.id)).status).toBe('PAID');
    expect(await sys.server.store.listPayments(order.id)).toMatchObject([{ kind: 'ORDER', amount: order.total }]);
    expect(await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo)).toMatchObject({
      outcome: 'APPLIED',
      deliveries: 1,
    });
  });

  it('accepts a notification signed with the platform certificate (combined mode)', async () => {
    const { token, order } = await pendingOrder();
    const certSigner = { serial: 'D7CE59D1F522D701', privateKey: crypto.createPrivateKey(cert.privateKeyPem) };
    const res = await send(buildNotification({ apiV3Key: keys.apiV3Key, signer: certSigner, transaction: transactionFor(order) }));
    expect(res.status).toBe(204);
    expect((await status(token, order.id)).status).toBe('PAID');
  });

  it('never marks paid for a wrong amount, and records it for review', async () => {
    const { token, order } = await pendingOrder();
    const d = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer,
      transaction: transactionFor(order, { amount: { total: 1, payer_total: 1, currency: 'CNY' } }),
    });
    const res = await send(d);
    expect(res.status).toBe(204);
    expect((await status(token, order.id)).status).toBe('PENDING');
    expect(await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo)).toMatchObject({ outcome: 'AMOUNT_MISMATCH' });
    held.push('a wrong amount → 204, recorded AMOUNT_MISMATCH, not paid');
  });

  it('never marks paid for another currency', async () => {
    const { token, order } = await pendingOrder();
    await send(
      buildNotification({
        apiV3Key: keys.apiV3Key,
        signer,
        transaction: transactionFor(order, { amount: { total: order.total, currency: 'USD' } }),
      }),
    );
    expect((await status(token, order.id)).status).toBe('PENDING');
  });

  for (const [field, value, outcome] of [
    ['appid', 'wx0000000000000000', 'APPID_MISMATCH'],
    ['mchid', '1000000000', 'MCHID_MISMATCH'],
  ] as const) {
    it(`refuses a wrong ${field} and records it`, async () => {
      const { token, order } = await pendingOrder();
      const d = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionFor(order, { [field]: value }) });
      const res = await send(d);
      expect(res.status).toBe(400);
      expect((await status(token, order.id)).status).toBe('PENDING');
      expect(await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo)).toMatchObject({ outcome });
      held.push(`a wrong ${field} → 400, recorded ${outcome}`);
    });
  }

  it('records an unknown order and asks WeChat to retry later', async () => {
    const d = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer,
      transaction: transactionFor({ outTradeNo: 'UNKNOWN000000001', total: 100 }),
    });
    expect((await send(d)).status).toBe(404);
    expect(await sys.server.store.findNotification(JSON.parse(d.body).id, 'UNKNOWN000000001')).toMatchObject({ outcome: 'UNKNOWN_ORDER' });
    held.push('an unknown order → 404, recorded UNKNOWN_ORDER');
  });

  it('acknowledges events other than a successful payment without changing the order', async () => {
    const { token, order } = await pendingOrder();
    const res = await send(
      buildNotification({
        apiV3Key: keys.apiV3Key,
        signer,
        eventType: 'TRANSACTION.CLOSED',
        transaction: transactionFor(order, { trade_state: 'CLOSED' }),
      }),
    );
    expect(res.status).toBe(204);
    expect((await status(token, order.id)).status).toBe('PENDING');
  });

  it('applies 50 concurrent identical notifications once and answers all 50 with 2xx', async () => {
    const { token, order } = await pendingOrder();
    const d = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionFor(order) });
    const answers = await Promise.all(Array.from({ length: 50 }, () => send(d)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(204));
    const rec = await sys.server.store.findNotification(JSON.parse(d.body).id, order.outTradeNo);
    expect(rec).toMatchObject({ outcome: 'APPLIED', deliveries: 50 });
    const paid = await status(token, order.id);
    expect(paid.status).toBe('PAID');
    const log = sys.logs.filter((l) => l.includes('"order paid"') && l.includes(order.id));
    expect(log).toHaveLength(1); // exactly one transition
  });

  it('keeps the first payment when a second, different transaction reports the same order', async () => {
    const { token, order } = await pendingOrder();
    const first = transactionFor(order);
    await send(buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: first }));
    const second = buildNotification({
      apiV3Key: keys.apiV3Key,
      signer,
      transaction: transactionFor(order, { transaction_id: '4200000000000000000000009999' }),
    });
    expect((await send(second)).status).toBe(204);
    expect((await status(token, order.id)).transactionId).toBe(first.transaction_id);
    expect(await sys.server.store.findNotification(JSON.parse(second.body).id, order.outTradeNo)).toMatchObject({
      outcome: 'ALREADY_PAID',
      detail: expect.stringMatching(/refund/),
    });
  });

  it('answers 5xx when the store cannot persist, so WeChat retries; the retry succeeds', async () => {
    const { token, order } = await pendingOrder();
    const d = buildNotification({ apiV3Key: keys.apiV3Key, signer, transaction: transactionFor(order) });
    const store = sys.server.store;
    const original = store.markPaid;
    store.markPaid = async () => {
      throw new Error('disk I/O error');
    };
    try {
      const res = await send(d);
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('FAIL');
    } finally {
      store.markPaid = original;
    }
    expect((await send(d)).status).toBe(204);
    expect((await status(token, order.id)).status).toBe('PAID');
  });
});

function omit(h: Record<string, string>, k: string) {
  const { [k]: _drop, ...rest } = h;
  return rest;
}

function resign(d: { body: string }, at: number) {
  return signEnvelope(d.body, signer, at);
}

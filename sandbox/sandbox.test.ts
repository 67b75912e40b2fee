// The sandbox must behave like WeChat, or tests against it prove nothing.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from './app';
import { generateSandboxKeys } from './keys';
import { createWechatPayClient } from '../server/src/wechatpay/client';
import { WechatPayError } from '../server/src/wechatpay/errors';
import { createCode2SessionClient } from '../server/src/wechat/code2session';
import { createVerifier } from '../server/src/wechatpay/verifier';
import { loadPrivateKey } from '../server/src/wechatpay/crypto';
import { authorize, signRequestPayment, type Merchant } from '../server/src/wechatpay/merchant';
import { parseNotification } from '../server/src/wechatpay/notification';

const keys = generateSandboxKeys();
let sandbox: Sandbox;
let server: http.Server;
let base: string;
let merchant: Merchant;
// A merchant endpoint that records what the sandbox delivers and answers as told.
const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
let answerWith = 204;
let receiver: http.Server;
let notifyUrl: string;

beforeAll(async () => {
  sandbox = createSandbox({ keys, allowHttpNotifyUrl: true, controls: { timeScale: 0.001 } });
  server = http.createServer(sandbox.app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver = http
    .createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = answerWith;
        res.end();
      });
    })
    .listen(0, '127.0.0.1');
  await new Promise((r) => receiver.once('listening', r));
  notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
  merchant = {
    appid: keys.appid,
    mchid: keys.mchid,
    certSerial: keys.merchantSerial,
    privateKey: loadPrivateKey(keys.merchantPrivateKeyPem),
    apiV3Key: keys.apiV3Key,
    notifyUrl,
  };
});
afterAll(() => {
  sandbox.stop();
  server.close();
  receiver.close();
});

const verifier = () => createVerifier({ publicKey: { id: keys.publicKeyId, pem: keys.platformPublicKeyPem } });
const client = (m: Partial<Merchant> = {}) =>
  createWechatPayClient({ baseUrl: base, merchant: { ...merchant, ...m }, verifier: verifier(), now: Date.now });
const body = (outTradeNo: string, openid: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    appid: keys.appid,
    mchid: keys.mchid,
    description: '测试',
    out_trade_no: outTradeNo,
    notify_url: notifyUrl,
    amount: { total: 101, currency: 'CNY' },
    payer: { openid },
    ...over,
  });
const newNo = () => `SB${crypto.randomBytes(8).toString('hex')}`;

describe('code2Session', () => {
  const c2s = (secret = keys.appSecret) => createCode2SessionClient({ baseUrl: base, appid: keys.appid, appSecret: secret });

  it('exchanges a code once; reuse is 40163, unknown is 40029', async () => {
    const { code, openid } = sandbox.issueCode('u1');
    const s = await c2s().exchange(code);
    expect(s.openid).toBe(openid);
    expect(Buffer.from(s.sessionKey, 'base64')).toHaveLength(16);
    await expect(c2s().exchange(code)).rejects.toMatchObject({ errcode: 40163, isCodeInvalid: true });
    await expect(c2s().exchange('unknown')).rejects.toMatchObject({ errcode: 40029, isCodeInvalid: true });
  });

  it('expires codes after 5 minutes', async () => {
    let t = Date.now();
    const s2 = createSandbox({ keys, now: () => t });
    const srv = http.createServer(s2.app).listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const { code } = s2.issueCode('late');
    t += 5 * 60_000 + 1;
    const res = await (
      await fetch(`${url}/sns/jscode2session?appid=${keys.appid}&secret=${keys.appSecret}&js_code=${code}&grant_type=authorization_code`)
    ).json();
    expect(res.errcode).toBe(40029);
    srv.close();
  });

  it('answers 40125 for a wrong secret, -1 when busy, 45011 past 100 logins a minute', async () => {
    await expect(c2s('wrong').exchange(sandbox.issueCode('u2').code)).rejects.toMatchObject({
      errcode: 40125,
      isCodeInvalid: false,
      isBusy: false,
    });
    sandbox.controls.code2sessionErrcode = { errcode: -1, times: 1 };
    await expect(c2s().exchange(sandbox.issueCode('u2').code)).rejects.toMatchObject({ errcode: -1, isBusy: true });
    for (let i = 0; i < 100; i++) await c2s().exchange(sandbox.issueCode('busy-user').code);
    await expect(c2s().exchange(sandbox.issueCode('busy-user').code)).rejects.toMatchObject({ errcode: 45011, isBusy: true });
  });

  it('reports an unreachable WeChat with no errcode', async () => {
    const dead = createCode2SessionClient({ baseUrl: 'http://127.0.0.1:9', appid: keys.appid, appSecret: 'x' });
    await expect(dead.exchange('c')).rejects.toMatchObject({ name: 'WechatLoginError', errcode: null, isBusy: false });
  });
});

describe('v3 API: authentication and signed answers', () => {
  it('refuses requests without Accept or User-Agent, with a bad signature, or from another serial', async () => {
    const r1 = await fetch(`${base}/v3/pay/transactions/jsapi`, { method: 'POST', body: '{}', headers: { 'User-Agent': '' } });
    expect(r1.status).toBe(400);
    const { openid } = sandbox.issueCode('v3');
    await expect(client({ certSerial: 'ABCDEF0123' }).jsapiPrepay(body(newNo(), openid))).rejects.toMatchObject({ code: 'SIGN_ERROR' });
    const otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(client({ privateKey: otherKey }).jsapiPrepay(body(newNo(), openid))).rejects.toMatchObject({
      code: 'SIGN_ERROR',
      httpStatus: 401,
    });
  });

  it('validates the JSAPI body the way WeChat does', async () => {
    const { openid } = sandbox.issueCode('v3b');
    const c = client();
    const bad: [Record<string, unknown>, string][] = [
      [{ out_trade_no: 'abc' }, 'PARAM_ERROR'],
      [{ amount: { total: 1.5 } }, 'PARAM_ERROR'],
      [{ amount: { total: 0 } }, 'PARAM_ERROR'],
      [{ notify_url: `${notifyUrl}?a=1` }, 'PARAM_ERROR'],
      [{ description: 'x'.repeat(128) }, 'PARAM_ERROR'],
      [{ appid: 'wx0000000000000000' }, 'APPID_MCHID_NOT_MATCH'],
    ];
    for (const [over, code] of bad)
      await expect(c.jsapiPrepay(body(newNo(), openid, over)), JSON.stringify(over)).rejects.toMatchObject({ code });
    await expect(c.jsapiPrepay(body(newNo(), 'o_not_from_this_app'))).rejects.toMatchObject({
      code: 'OPENID_MISMATCH',
      kind: 'API',
      isRetryable: false,
    });
  });

  it('re-posting identical parameters gives a new prepay_id; changed parameters are OUT_TRADE_NO_USED', async () => {
    const { openid } = sandbox.issueCode('v3c');
    const no = newNo();
    const c = client();
    const a = await c.jsapiPrepay(body(no, openid));
    const b = await c.jsapiPrepay(body(no, openid));
    expect(a).toMatch(/^wx\d{14}[0-9a-f]{20}$/);
    expect(b).not.toBe(a);
    const err = await c.jsapiPrepay(body(no, openid, { amount: { total: 999, currency: 'CNY' } })).catch((e) => e);
    expect(err).toBeInstanceOf(WechatPayError);
    expect(err).toMatchObject({ kind: 'API', code: 'OUT_TRADE_NO_USED', httpStatus: 403, isOutTradeNoUsed: true, isRetryable: false });
  });

  it('queries, closes (204, idempotent) and refuses to re-order a closed out_trade_no', async () => {
    const { openid } = sandbox.issueCode('v3d');
    const no = newNo();
    const c = client();
    await c.jsapiPrepay(body(no, openid));
    expect(await c.queryByOutTradeNo(no)).toMatchObject({ out_trade_no: no, trade_state: 'NOTPAY', amount: { total: 101 } });
    expect(await c.queryByOutTradeNo('NOSUCHORDER1')).toBeNull();
    await c.close(no);
    await c.close(no);
    expect((await c.queryByOutTradeNo(no))?.trade_state).toBe('CLOSED');
    await expect(c.jsapiPrepay(body(no, openid))).rejects.toMatchObject({ code: 'ORDER_CLOSED', isOrderClosed: true });
  });

  it('signs responses with the key the merchant asks for, and the client rejects a forged answer', async () => {
    const res = await fetch(`${base}/v3/pay/transactions/out-trade-no/NOSUCH?mchid=${keys.mchid}`);
    expect(res.headers.get('wechatpay-serial')).toBe(keys.publicKeyId);
    const wrong = createWechatPayClient({
      baseUrl: base,
      merchant,
      verifier: createVerifier({
        publicKey: {
          id: keys.publicKeyId,
          pem: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        },
      }),
      now: Date.now,
    });
    const { openid } = sandbox.issueCode('v3e');
    await expect(wrong.jsapiPrepay(body(newNo(), openid))).rejects.toMatchObject({
      kind: 'UNTRUSTED',
      code: 'BAD_SIGNATURE',
      message: expect.stringMatching(/could not be trusted/),
    });
  });
});

describe('v3 API: fidelity to WeChat Pay', () => {
  it('takes a re-post with the same fields in another key order as identical', async () => {
    const { openid } = sandbox.issueCode('fid1');
    const no = newNo();
    const c = client();
    await c.jsapiPrepay(body(no, openid));
    const fields = JSON.parse(body(no, openid)) as Record<string, unknown>;
    const reordered = JSON.stringify(
      Object.fromEntries(
        Object.entries(fields)
          .reverse()
          .map(([k, v]) => [k, v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse()) : v]),
      ),
    );
    expect(reordered).not.toBe(body(no, openid));
    expect(await c.jsapiPrepay(reordered)).toMatch(/^wx/);
  });

  it("puts the offending value, not the field's path, in a PARAM_ERROR's detail.value", async () => {
    const { openid } = sandbox.issueCode('fid2');
    const err = await client()
      .jsapiPrepay(body(newNo(), openid, { amount: { total: 1, currency: 'XYZ' } }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PARAM_ERROR', httpStatus: 400 });
    const res = await rawV3('POST', '/v3/pay/transactions/jsapi', body(newNo(), openid, { amount: { total: 1, currency: 'XYZ' } }));
    expect(res.body).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/amount/currency', value: 'XYZ', location: 'body' } });
    const short = await rawV3('POST', '/v3/pay/transactions/jsapi', body('abc', openid));
    expect(short.body.detail).toMatchObject({ field: '/out_trade_no', value: 'abc' });
  });

  it('answers a wrong HTTP method with 405', async () => {
    for (const [method, path] of [
      ['GET', '/v3/pay/transactions/jsapi'],
      ['PUT', '/v3/pay/transactions/jsapi'],
      ['POST', `/v3/pay/transactions/out-trade-no/${newNo()}?mchid=${keys.mchid}`],
      ['GET', `/v3/pay/transactions/out-trade-no/${newNo()}/close`],
    ] as const) {
      const res = await rawV3(method, path, method === 'GET' ? '' : '{}');
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toMatch(/^(GET|POST)$/);
    }
  });

  it('refuses scene_info without payer_client_ip', async () => {
    const { openid } = sandbox.issueCode('fid4');
    const res = await rawV3('POST', '/v3/pay/transactions/jsapi', body(newNo(), openid, { scene_info: { device_id: 'POS1' } }));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/scene_info/payer_client_ip' } });
    const ok = await rawV3('POST', '/v3/pay/transactions/jsapi', body(newNo(), openid, { scene_info: { payer_client_ip: '203.0.113.7' } }));
    expect(ok.status).toBe(200);
  });
});

/** A signed v3 call whose raw answer the test reads (the client would only throw). */
async function rawV3(method: string, pathWithQuery: string, payload: string) {
  const res = await fetch(`${base}${pathWithQuery}`, {
    method,
    headers: {
      Authorization: await authorize(merchant, method, pathWithQuery, payload, Date.now()),
      Accept: 'application/json',
      'User-Agent': 'test',
      'Content-Type': 'application/json',
    },
    body: method === 'GET' ? undefined : payload,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

describe('the payment sheet and notifications', () => {
  async function prepay(user: string) {
    const { openid } = sandbox.issueCode(user);
    const no = newNo();
    const prepayId = await client().jsapiPrepay(body(no, openid));
    return { no, params: await signRequestPayment(merchant, prepayId, Date.now()) };
  }
  const pay = async (p: object, outcome = 'success') =>
    (
      await fetch(`${base}/sandbox/pay`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...p, outcome }),
      })
    ).json();

  it('verifies paySign as WeChat does: tampered fields, MD5 signType, milliseconds are refused', async () => {
    const { params } = await prepay('sheet1');
    const tampered = (params.nonceStr[0] === 'x' ? 'y' : 'x') + params.nonceStr.slice(1); // always a different nonce
    expect((await pay({ ...params, nonceStr: tampered })).errMsg).toMatch(/支付验证签名失败/);
    expect((await pay({ ...params, signType: 'MD5' })).errMsg).toMatch(/signType must be RSA/);
    expect((await pay({ ...params, timeStamp: `${params.timeStamp}000` })).errMsg).toMatch(/10-digit/);
    expect((await pay({ ...params, package: 'prepay_id=wx_unknown' })).errMsg).toMatch(/package/);
    expect((await pay(params, 'cancel')).errMsg).toBe('requestPayment:fail cancel');
  });

  it('on success delivers a signed, encrypted notification the server pipeline accepts', async () => {
    received.length = 0;
    const { no, params } = await prepay('sheet2');
    expect((await pay(params)).errMsg).toBe('requestPayment:ok');
    await sandbox.idle();
    expect(received).toHaveLength(1);
    const h = received[0]!.headers;
    const n = parseNotification(
      { verifier: verifier(), apiV3Key: keys.apiV3Key, nowMs: Date.now },
      {
        serial: h['wechatpay-serial'] as string,
        signature: h['wechatpay-signature'] as string,
        timestamp: h['wechatpay-timestamp'] as string,
        nonce: h['wechatpay-nonce'] as string,
      },
      Buffer.from(received[0]!.body),
    );
    expect(n.transaction).toMatchObject({ out_trade_no: no, trade_state: 'SUCCESS', amount: { total: 101, payer_total: 101 } });
    expect((await pay(params)).errMsg).toMatch(/已支付/);
  });

  it("retries on WeChat's schedule until answered 2xx, reusing the notification id", async () => {
    received.length = 0;
    answerWith = 500;
    const { params } = await prepay('sheet3');
    await pay(params);
    // Refuse until WeChat has tried twice (15 ms apart at timeScale 0.001), then accept.
    for (let i = 0; i < 500 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    answerWith = 204;
    await sandbox.idle();
    expect(received.length).toBeGreaterThanOrEqual(3);
    expect(new Set(received.map((r) => JSON.parse(r.body).id)).size).toBe(1);
  });

  it('drops, duplicates and probes on request', async () => {
    received.length = 0;
    Object.assign(sandbox.controls, { dropNotifications: 1 });
    await pay((await prepay('sheet4')).params);
    await sandbox.idle();
    expect(received).toHaveLength(0);
    Object.assign(sandbox.controls, { duplicateNotifications: 2 });
    await pay((await prepay('sheet5')).params);
    await sandbox.idle();
    expect(received).toHaveLength(3);
    received.length = 0;
    Object.assign(sandbox.controls, { duplicateNotifications: 0, signtestProbes: true });
    answerWith = 401;
    const probePay = pay((await prepay('sheet6')).params);
    await probePay;
    await new Promise((r) => setTimeout(r, 40));
    answerWith = 204;
    await sandbox.idle();
    Object.assign(sandbox.controls, { signtestProbes: false });
    expect(received[0]!.headers['wechatpay-signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(received.at(-1)!.headers['wechatpay-signature']).not.toMatch(/SIGNTEST/);
  });
});

describe('v3 refunds', () => {
  async function paidOrder(user: string) {
    const { openid } = sandbox.issueCode(user);
    const no = newNo();
    const prepayId = await client().jsapiPrepay(body(no, openid));
    const params = await signRequestPayment(merchant, prepayId, Date.now());
    const paid = await (
      await fetch(`${base}/sandbox/pay`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...params, outcome: 'success' }),
      })
    ).json();
    expect(paid.errMsg).toBe('requestPayment:ok');
    const t = await client().queryByOutTradeNo(no);
    return { no, transactionId: t!.transaction_id! };
  }
  const order = (tx: string, outRefundNo: string, refund: number, over: Record<string, unknown> = {}) => ({
    transaction_id: tx,
    out_refund_no: outRefundNo,
    notify_url: notifyUrl,
    amount: { refund, total: 101, currency: 'CNY' as const },
    ...over,
  });

  it('answers PROCESSING, is idempotent on out_refund_no, refuses changed parameters and more than remains', async () => {
    const { no, transactionId } = await paidOrder('refund1');
    const c = client();
    const first = await c.refund(order(transactionId, `${no}R1`, 60));
    expect(first).toMatchObject({
      out_refund_no: `${no}R1`,
      out_trade_no: no,
      transaction_id: transactionId,
      status: 'PROCESSING',
      amount: { refund: 60, total: 101 },
    });
    expect((await c.refund(order(transactionId, `${no}R1`, 60))).refund_id).toBe(first.refund_id);
    await expect(c.refund(order(transactionId, `${no}R1`, 61))).rejects.toMatchObject({ code: 'INVALID_REQUEST', httpStatus: 400 });
    await expect(c.refund(order(transactionId, `${no}R2`, 42))).rejects.toMatchObject({ code: 'NOT_ENOUGH', httpStatus: 403 });
    await expect(
      c.refund(order(transactionId, `${no}R3`, 1, { amount: { refund: 1, total: 100, currency: 'CNY' } })),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(c.refund(order(transactionId, 'bad refund no', 1))).rejects.toMatchObject({ code: 'PARAM_ERROR' });
    expect((await c.refund(order(transactionId, `${no}R4`, 41))).status).toBe('PROCESSING');
  });

  it('refuses a refund of an unknown or unpaid order, and answers unknown refunds with 404', async () => {
    const c = client();
    await expect(c.refund(order('4200000000000000000000000000', 'RFUNKNOWN1', 1))).rejects.toMatchObject({
      code: 'RESOURCE_NOT_EXISTS',
      httpStatus: 404,
    });
    expect(await c.queryRefund('RFNOSUCH')).toBeNull();
  });

  it('ends the refund as switched and delivers a signed REFUND.* notification the server pipeline reads', async () => {
    const { transactionId } = await paidOrder('refund2');
    received.length = 0;
    Object.assign(sandbox.controls, { refundOutcome: 'abnormal', refundDelayMs: 5 });
    const r = await client().refund(order(transactionId, 'RFABNORMAL01', 101));
    await sandbox.idle();
    Object.assign(sandbox.controls, { refundOutcome: 'success' });
    expect((await client().queryRefund('RFABNORMAL01'))?.status).toBe('ABNORMAL');
    const delivered = received.find((d) => JSON.parse(d.body).event_type === 'REFUND.ABNORMAL')!;
    const n = parseNotification(
      { verifier: verifier(), apiV3Key: keys.apiV3Key, nowMs: Date.now },
      {
        serial: delivered.headers['wechatpay-serial'] as string,
        signature: delivered.headers['wechatpay-signature'] as string,
        timestamp: delivered.headers['wechatpay-timestamp'] as string,
        nonce: delivered.headers['wechatpay-nonce'] as string,
      },
      Buffer.from(delivered.body),
    );
    expect(n.refund).toMatchObject({
      out_refund_no: 'RFABNORMAL01',
      refund_id: r.refund_id,
      refund_status: 'ABNORMAL',
      mchid: keys.mchid,
      amount: { refund: 101 },
    });
    expect(n.transaction).toBeNull();
  });
});

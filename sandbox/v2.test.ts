// The sandbox's API v2 as a merchant following WeChat's v2 documents meets it, driven by the server's
// own v2 client over real sockets (mutual TLS for refunds), each case written from WeChat's documented
// behaviour: a refund beyond what remains is INVALID_REQUEST ("invalid refund_fee"), never NOTENOUGH
// (the merchant's balance); a notification answered 200 with return_code FAIL is sent again; closing a
// closed order answers ORDERCLOSED.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWechatPayV2Client, type WechatPayV2Client } from '../server/src/wechatpay/v2/client';
import { WechatPayError } from '../server/src/wechatpay/errors';
import { v2Sign } from '../server/src/wechatpay/v2/sign';
import { buildV2Xml, parseV2Xml } from '../server/src/wechatpay/v2/xml';
import { type RunningSandbox, startSandbox } from './server';

/** How the merchant's notify URL answers, in turn: each delivery takes the next answer (the last repeats). */
let answers: { status: number; body: string }[] = [];
const received: Record<string, string>[] = [];
let merchant: http.Server;
let sb: RunningSandbox;
let client: WechatPayV2Client;
let dataDir: string;
const xmlAnswer = (code: 'SUCCESS' | 'FAIL', msg: string) =>
  `<xml><return_code><![CDATA[${code}]]></return_code><return_msg><![CDATA[${msg}]]></return_msg></xml>`;

beforeAll(async () => {
  merchant = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push(parseV2Xml(body));
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      res.writeHead(a.status, { 'Content-Type': 'text/xml' }).end(a.body);
    });
  });
  await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r));
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-v2-'));
  sb = await startSandbox({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    apiUrl: `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`,
    controls: { timeScale: 0.001 }, // the retry schedule in milliseconds
  });
  const e = sb.env;
  client = createWechatPayV2Client({
    baseUrl: sb.url,
    refundBaseUrl: sb.tlsUrl,
    appid: e.WECHAT_APPID!,
    mchid: e.WECHATPAY_MCHID!,
    apiKey: e.WECHATPAY_APIV2_KEY!,
    signType: 'MD5',
    tls: {
      cert: fs.readFileSync(e.WECHATPAY_CERT_FILE!, 'utf8'),
      key: fs.readFileSync(e.WECHATPAY_PRIVATE_KEY_FILE!, 'utf8'),
      ca: fs.readFileSync(e.WECHATPAY_V2_CA_FILE!, 'utf8'),
    },
  });
});
afterAll(async () => {
  await sb?.close();
  merchant?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
/** A unifiedorder for `total` fen, paid on the sandbox's sheet with a v2 MD5 paySign. */
async function paidOrder(total: number): Promise<string> {
  const outTradeNo = `V2T${Date.now()}${seq++}`;
  const { openid } = sb.sandbox.issueCode();
  const a = await client.unifiedOrder({
    body: 'v2 test',
    out_trade_no: outTradeNo,
    total_fee: total,
    spbill_create_ip: '127.0.0.1',
    notify_url: sb.env.WECHATPAY_NOTIFY_URL!,
    trade_type: 'JSAPI',
    openid,
  });
  const sheet = {
    appId: sb.env.WECHAT_APPID!,
    timeStamp: String(Math.floor(Date.now() / 1000)),
    nonceStr: 'n0nce',
    package: `prepay_id=${a.prepay_id}`,
    signType: 'MD5',
  };
  const res = await fetch(`${sb.url}/sandbox/pay`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...sheet, paySign: v2Sign(sheet, sb.env.WECHATPAY_APIV2_KEY!, 'MD5') }),
  });
  expect((await res.json()).errMsg).toBe('requestPayment:ok');
  return outTradeNo;
}

const refund = (outTradeNo: string, outRefundNo: string, total: number, amount: number) =>
  client.refund({ out_trade_no: outTradeNo, out_refund_no: outRefundNo, total_fee: total, refund_fee: amount });
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => (err instanceof WechatPayError ? { code: err.code, message: err.message } : err),
  );

describe('API v2 refunds', () => {
  it('answers a refund above the paid amount, or above what remains, INVALID_REQUEST "invalid refund_fee"', async () => {
    answers = [{ status: 200, body: xmlAnswer('SUCCESS', 'OK') }];
    const no = await paidOrder(500);
    expect(await failureOf(refund(no, `${no}R1`, 500, 501))).toEqual({ code: 'INVALID_REQUEST', message: 'invalid refund_fee' });
    expect(await refund(no, `${no}R2`, 500, 300)).toMatchObject({ result_code: 'SUCCESS', refund_fee: '300' });
    expect(await failureOf(refund(no, `${no}R3`, 500, 201))).toEqual({ code: 'INVALID_REQUEST', message: 'invalid refund_fee' });
    expect(await refund(no, `${no}R4`, 500, 200)).toMatchObject({ result_code: 'SUCCESS', refund_fee: '200' });
  });
});

describe('API v2 closeorder', () => {
  it('answers ORDERCLOSED for an order already closed, and the client takes that as closed', async () => {
    const outTradeNo = `V2C${Date.now()}`;
    const { openid } = sb.sandbox.issueCode();
    await client.unifiedOrder({
      body: 'v2 close',
      out_trade_no: outTradeNo,
      total_fee: 100,
      spbill_create_ip: '127.0.0.1',
      notify_url: sb.env.WECHATPAY_NOTIFY_URL!,
      trade_type: 'JSAPI',
      openid,
    });
    await client.closeOrder(outTradeNo); // the first close: SUCCESS
    expect(sb.sandbox.orderState(outTradeNo)).toBe('CLOSED');
    // The second, as WeChat answers it: result_code FAIL, err_code ORDERCLOSED. Seen through a raw call…
    const raw = await fetch(`${sb.url}/pay/closeorder`, {
      method: 'POST',
      body: signedXml({ out_trade_no: outTradeNo }),
    });
    expect(parseV2Xml(await raw.text())).toMatchObject({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'ORDERCLOSED' });
    // …and the client, which treats it as the close it asked for.
    await expect(client.closeOrder(outTradeNo)).resolves.toBeUndefined();
  });
});

describe('API v2 notifications', () => {
  it('sends again a notification answered 200 with return_code FAIL, until answered SUCCESS', async () => {
    // Earlier tests' deliveries finish first: under load one of their retries took an answer meant for this test.
    await sb.sandbox.idle();
    answers = [
      { status: 200, body: xmlAnswer('FAIL', '参数格式校验错误') },
      { status: 200, body: 'success' }, // not WeChat's XML: not an acknowledgement either
      { status: 200, body: xmlAnswer('SUCCESS', 'OK') },
    ];
    const before = received.length;
    const no = await paidOrder(100);
    await sb.sandbox.idle();
    const mine = received.slice(before).filter((n) => n.out_trade_no === no);
    expect(mine).toHaveLength(3);
    const records = sb.sandbox.deliveries.filter((d) => d.outTradeNo === no);
    expect(records.map((d) => d.attempt)).toEqual([0, 1, 2]);
  });
});

/** A closeorder request signed as the merchant would send it. */
function signedXml(fields: Record<string, string>): string {
  const p: Record<string, string> = {
    ...fields,
    appid: sb.env.WECHAT_APPID!,
    mch_id: sb.env.WECHATPAY_MCHID!,
    nonce_str: 'abc123',
    sign_type: 'MD5',
  };
  p.sign = v2Sign(p, sb.env.WECHATPAY_APIV2_KEY!, 'MD5');
  return buildV2Xml(p);
}

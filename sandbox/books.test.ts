// The sandbox's books as WeChat keeps them: bills from its own ledger in WeChat's format, served the way v3
// and v2 serve them, with the hash, the expiring link, the hour a day's bill appears, and the errors.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from './app';
import { generateSandboxKeys } from './keys';
import { BillReader } from '../server/src/wechatpay/bill';
import { createWechatPayClient, type WechatPayClient } from '../server/src/wechatpay/client';
import { loadPrivateKey } from '../server/src/wechatpay/crypto';
import { authorize, signRequestPayment, type Merchant } from '../server/src/wechatpay/merchant';
import { createWechatPayV2Client } from '../server/src/wechatpay/v2/client';
import { v2Sign } from '../server/src/wechatpay/v2/sign';
import { buildV2Xml, parseV2Xml } from '../server/src/wechatpay/v2/xml';
import { createVerifier } from '../server/src/wechatpay/verifier';

const keys = generateSandboxKeys();
// Sandbox time: 2026-12-01 15:00 Beijing.
let now = Date.parse('2026-12-01T15:00:00+08:00');
let sandbox: Sandbox;
let server: http.Server;
let base: string;
let merchant: Merchant;
let client: WechatPayClient;

beforeAll(async () => {
  sandbox = createSandbox({ keys, now: () => now, allowHttpNotifyUrl: true, controls: { dropNotifications: Number.POSITIVE_INFINITY } });
  server = http.createServer(sandbox.app).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  merchant = {
    appid: keys.appid,
    mchid: keys.mchid,
    certSerial: keys.merchantSerial,
    privateKey: loadPrivateKey(keys.merchantPrivateKeyPem),
    apiV3Key: keys.apiV3Key,
    notifyUrl: 'http://127.0.0.1:9/notify',
  };
  client = createWechatPayClient({
    baseUrl: base,
    merchant,
    verifier: createVerifier({ publicKey: { id: keys.publicKeyId, pem: keys.platformPublicKeyPem } }),
    now: () => now,
  });
  // Two payments on 12-01, one refunded in part.
  for (const [total, refund] of [
    [4500, 1000],
    [12_345, 0],
  ] as const) {
    const outTradeNo = `BOOKS${crypto.randomBytes(8).toString('hex')}`;
    const prepayId = await client.jsapiPrepay(
      JSON.stringify({
        appid: keys.appid,
        mchid: keys.mchid,
        description: '陶瓷马克杯, 白色',
        out_trade_no: outTradeNo,
        notify_url: merchant.notifyUrl,
        amount: { total, currency: 'CNY' },
        payer: { openid: sandbox.issueCode().openid },
      }),
    );
    const sheet = await signRequestPayment(merchant, prepayId, now);
    const paid = await fetch(`${base}/sandbox/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...sheet, outcome: 'success' }),
    });
    expect((await paid.json()).errMsg).toBe('requestPayment:ok');
    now += 60_000; // a minute between events: the bill lists them in order
    if (refund) {
      const t = (await client.queryByOutTradeNo(outTradeNo))!;
      await client.refund({
        transaction_id: t.transaction_id!,
        out_refund_no: `RF${outTradeNo}`,
        amount: { refund, total, currency: 'CNY' },
      });
    }
    now += 60_000;
  }
});
afterAll(() => {
  sandbox.stop();
  server.close();
});

/** A signed v3 GET, as the server's client signs it; the raw answer. */
async function signedGet(pathWithQuery: string) {
  const res = await fetch(`${base}${pathWithQuery}`, {
    headers: { Authorization: await authorize(merchant, 'GET', pathWithQuery, '', now), Accept: 'application/json', 'User-Agent': 'test' },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

const read = (text: string) => {
  const reader = new BillReader();
  const rows = text
    .split('\r\n')
    .map((l) => reader.line(l))
    .filter((r) => r !== null);
  return { rows, summary: reader.end() };
};

describe("the sandbox's bills", () => {
  it("serves a day's bill only from 10:00 the next day, sandbox time, unless billsReadyNow", async () => {
    await expect(client.tradeBill('2026-12-01')).rejects.toMatchObject({ code: 'STATEMENT_CREATING' });
    now = Date.parse('2026-12-02T09:59:00+08:00');
    await expect(client.tradeBill('2026-12-01')).rejects.toMatchObject({ code: 'STATEMENT_CREATING' });
    now = Date.parse('2026-12-02T10:00:00+08:00');
    expect((await client.tradeBill('2026-12-01')).hashType).toBe('SHA1');
    await expect(client.tradeBill('2026-12-02')).rejects.toMatchObject({ code: 'STATEMENT_CREATING' });
    await expect(client.tradeBill('2026-11-30')).rejects.toMatchObject({ code: 'NO_STATEMENT_EXIST' });
    await expect(client.tradeBill('2026-12-03')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(client.tradeBill('2026-08-01')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(client.tradeBill('2026-2-30')).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it("writes WeChat's format: BOM, CRLF, backticks, fees rounded half up, a summary that adds up; SHA-1 of the plain file", async () => {
    const link = await client.tradeBill('2026-12-01');
    expect(link.downloadUrl).toMatch(/\/v3\/billdownload\/file\?token=[\w-]+&tartype=GZIP$/);
    const got = await signedGet(new URL(link.downloadUrl).pathname + new URL(link.downloadUrl).search);
    expect(got.status).toBe(200);
    expect([...got.headers.keys()].filter((h) => h.startsWith('wechatpay-'))).toEqual([]); // the file is not signed
    const plain = gunzipSync(got.bytes);
    expect(crypto.createHash('sha1').update(plain).digest('hex')).toBe(link.hashValue);
    const text = plain.toString('utf8');
    expect(text.startsWith('\uFEFF交易时间,公众账号ID,商户号,特约商户号,')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(
      text
        .split('\n')
        .slice(0, -1)
        .every((l) => l.endsWith('\r')),
    ).toBe(true);
    const { rows, summary } = read(text.slice(1));
    expect(rows.map((r) => r.kind)).toEqual(['PAYMENT', 'REFUND', 'PAYMENT']);
    // 45.00 × 0.6 % = 0.27; 123.45 × 0.6 % = 0.7407 → 0.74; the refund returns 10.00 × 0.6 % = 0.06.
    expect(rows.map((r) => r.feeMicro)).toEqual([27_000, -6_000, 74_000]);
    expect(rows[0]).toMatchObject({ amount: 4500, rate: '0.60%' });
    expect(rows[1]).toMatchObject({ requested: 1000, refunded: 1000, outRefundNo: expect.stringMatching(/^RFBOOKS/) });
    expect(summary).toEqual({ count: 3, settlement: 16_845, refunds: 1000, feesMicro: 95_000, orders: 16_845 });
    expect(text).toContain('`陶瓷马克杯, 白色,`'); // a comma inside a field, as WeChat prints it
  });

  it('answers SUCCESS and REFUND bills with their own columns, and the fund-flow bill with a running balance', async () => {
    const bill = async (q: string) => {
      const link = JSON.parse((await signedGet(q)).bytes.toString('utf8')) as { download_url: string };
      const u = new URL(link.download_url);
      return (await signedGet(u.pathname + u.search)).bytes.toString('utf8');
    };
    const success = await bill('/v3/bill/tradebill?bill_date=2026-12-01&bill_type=SUCCESS');
    expect(success.split('\r\n')[0]).toBe(
      '\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注',
    );
    expect(read(success.slice(1)).summary).toMatchObject({ count: 2, settlement: 16_845, refunds: null });
    const refunds = await bill('/v3/bill/tradebill?bill_date=2026-12-01&bill_type=REFUND');
    expect(read(refunds.slice(1)).rows).toEqual([expect.objectContaining({ kind: 'REFUND', requested: 1000 })]);
    const fund = (await bill('/v3/bill/fundflowbill?bill_date=2026-12-01')).slice(1).split('\r\n');
    expect(fund[0]).toBe(
      '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号',
    );
    // 45.00 in, 0.27 out, 10.00 out, 0.06 back, 123.45 in, 0.74 out: 158.50 left.
    expect(fund.slice(1, -3).map((l) => l.split(',`')[7])).toEqual(['45.00', '44.73', '34.73', '34.79', '158.24', '157.50']);
    expect(fund.at(-2)).toBe('`6,`3,`168.51,`3,`11.01');
    const lower = await signedGet('/v3/bill/fundflowbill?bill_date=2026-12-01&account_type=Basic');
    expect(lower.status).toBe(400);
    expect((await signedGet('/v3/bill/tradebill?bill_date=2026-12-01&bill_type=all')).status).toBe(400);
  });

  it('the download link expires, and a changed or unsigned one is refused', async () => {
    const link = await client.tradeBill('2026-12-01');
    const u = new URL(link.downloadUrl);
    const tampered = await signedGet(`${u.pathname}?token=${u.searchParams.get('token')!.slice(0, -2)}xx&tartype=GZIP`);
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.bytes.toString()).message).toBe('下载链接不合法');
    expect((await fetch(link.downloadUrl)).status).toBe(401);
    now += 31_000;
    const late = await signedGet(u.pathname + u.search);
    expect(late.status).toBe(400);
    expect(JSON.parse(late.bytes.toString()).code).toBe('INVALID_REQUEST');
  });

  it('v2 downloadbill: the file on success, XML with error_code on failure', async () => {
    const v2 = createWechatPayV2Client({
      baseUrl: base,
      refundBaseUrl: base,
      appid: keys.appid,
      mchid: keys.mchid,
      apiKey: keys.apiV2Key!,
      signType: 'MD5',
    });
    const chunks: Buffer[] = [];
    for await (const c of await v2.downloadBill('20261201')) chunks.push(c);
    expect(read(gunzipSync(Buffer.concat(chunks)).toString('utf8').slice(1)).summary.count).toBe(3);
    await expect(v2.downloadBill('20261130')).rejects.toMatchObject({ code: 'NO_BILL_EXIST' });
    await expect(v2.downloadBill('20261202')).rejects.toMatchObject({ code: 'BILL_CREATING' });
    const fields = { appid: keys.appid, mch_id: keys.mchid, nonce_str: 'n'.repeat(32), bill_date: '20261201', bill_type: 'ALL' };
    const bad = await fetch(`${base}/pay/downloadbill`, {
      method: 'POST',
      body: buildV2Xml({ ...fields, sign: v2Sign(fields, 'x'.repeat(32), 'MD5') }),
    });
    expect(parseV2Xml(await bad.text())).toEqual({ return_code: 'FAIL', return_msg: 'sign error', error_code: '20001' });
  });
});

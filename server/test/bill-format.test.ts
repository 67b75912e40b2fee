// WeChat Pay's bill format, read from files nobody here generated: the SDK fixture from bills.md §6.5 and a
// bill written by hand from the published format (BOM, CRLF, a comma inside a field, a refund row, a
// PROCESSING refund, an amount past a million yuan). Also what must be refused: truncated files, a
// summary that disagrees with its rows, the legacy layout, amounts that are not whole fen.
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BillFormatError, BillReader, linesOf, yuanToFen, yuanToMicro, type BillRow } from '../src/wechatpay/bill';
import { readyBill } from '../src/payments/bill-stream';
import type { BillEntry } from '../src/domain/ports/payment-provider';

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'fixtures', name));

async function* chunks(text: string, size = 7): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function read(text: string): Promise<{ rows: BillRow[]; summary: ReturnType<BillReader['end']> }> {
  const reader = new BillReader();
  const rows: BillRow[] = [];
  for await (const line of linesOf(chunks(text))) {
    const row = reader.line(line);
    if (row) rows.push(row);
  }
  return { rows, summary: reader.end() };
}

async function entriesOf(bytes: Buffer, o: { gzip: boolean; sha1: string | null }) {
  const bill = readyBill(
    (async function* () {
      for (let i = 0; i < bytes.length; i += 1000) yield bytes.subarray(i, i + 1000);
    })(),
    o,
  );
  const entries: BillEntry[] = [];
  for await (const e of bill.entries) entries.push(e);
  return { entries, totals: bill.totals() };
}

describe('amounts in yuan, read exactly', () => {
  it('reads two- and five-decimal yuan into integer units without floating point', () => {
    expect(yuanToFen('0.07')).toBe(7);
    expect(yuanToFen('19.99')).toBe(1999);
    expect(yuanToFen('1234567.89')).toBe(123456789);
    expect(yuanToFen('0.1')).toBe(10);
    expect(yuanToFen('45.0')).toBe(4500);
    expect(yuanToMicro('0.01000')).toBe(1000);
    expect(yuanToMicro('-0.02000')).toBe(-2000);
    expect(yuanToMicro('7407.41000')).toBe(740741000);
  });
  it('refuses what is not an amount, and a fraction of a fen where fen are due', () => {
    for (const bad of ['', 'abc', '1,000.00', '1e3', '0.000001', ' . ']) expect(() => yuanToMicro(bad), bad).toThrow(BillFormatError);
    expect(() => yuanToFen('0.005')).toThrow(/whole number of fen/);
  });
});

describe('the SDK fixture (wechatpay-axios-plugin, bills.md §6.5)', () => {
  it('parses 45 rows, 31 payments and 14 refunds, to the totals of its summary, in fen', async () => {
    const bytes = fixture('wechatpay-bill.ALL.csv');
    expect(crypto.createHash('sha1').update(bytes).digest('hex')).toBe('9bb6cd819be348f17a9cbcedddc8eb62fefbd790');
    const { rows, summary } = await read(bytes.toString('utf8'));
    expect(rows).toHaveLength(45);
    expect(rows.filter((r) => r.kind === 'PAYMENT')).toHaveLength(31);
    expect(rows.filter((r) => r.kind === 'REFUND')).toHaveLength(14);
    expect(summary).toEqual({ count: 45, settlement: 47, refunds: 14, feesMicro: 8000, orders: 47 });
    const first = rows[0]!;
    expect(first).toMatchObject({
      kind: 'REFUND',
      outTradeNo: 'autotest_20190216081946_82335',
      transactionId: '4200000263201902167700134212',
      outRefundNo: 'REF4200000263201902167700963919',
      requested: 1,
      refunded: 1,
      status: 'SUCCESS',
    });
  });
  it('streams through gzip with its SHA-1 checked, and a changed byte is refused', async () => {
    const bytes = fixture('wechatpay-bill.ALL.csv');
    const sha1 = crypto.createHash('sha1').update(bytes).digest('hex');
    const { entries, totals } = await entriesOf(gzipSync(bytes), { gzip: true, sha1: sha1.toUpperCase() });
    expect(entries).toHaveLength(45);
    expect(totals).toEqual({ payments: 47, refunds: 14, fees: 8 });
    const changed = Buffer.from(bytes);
    changed[changed.length - 5] = '9'.charCodeAt(0) === changed[changed.length - 5] ? '8'.charCodeAt(0) : '9'.charCodeAt(0);
    await expect(entriesOf(gzipSync(changed), { gzip: true, sha1 })).rejects.toThrow(/SHA-1|could not be read/);
    await expect(entriesOf(bytes.subarray(0, 3000), { gzip: false, sha1: null })).rejects.toThrow(/could not be read/);
  });
});

describe('a bill written by hand from the published format', () => {
  it('parses to the expected fen totals: a comma inside a field, CRLF, the BOM, a PROCESSING refund', async () => {
    const bytes = fixture('bills/handwritten-2026-12-01.ALL.csv');
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const { rows, summary } = await read(bytes.toString('utf8'));
    expect(rows.map((r) => r.kind)).toEqual(['PAYMENT', 'PAYMENT', 'REFUND', 'PAYMENT']);
    expect(rows[0]).toMatchObject({ outTradeNo: '20261201A1', amount: 1999, settlement: 1999, feeMicro: 12000, rate: '0.60%' });
    expect(rows[1]).toMatchObject({ amount: 123456789, feeMicro: 740741000 });
    expect(rows[2]).toMatchObject({ outRefundNo: 'RF20261201X1', requested: 500, status: 'PROCESSING', feeMicro: -3000 });
    expect(summary).toEqual({ count: 4, settlement: 123458789, refunds: 500, feesMicro: 740750000, orders: 123458789 });
    const { entries, totals } = await entriesOf(bytes, { gzip: false, sha1: null });
    expect(totals).toEqual({ payments: 123458789, refunds: 500, fees: 740750 });
    expect(entries[2]).toMatchObject({ kind: 'REFUND', state: 'ACCEPTED', providerStatus: 'PROCESSING', amount: 500, fee: -3 });
  });

  it('reads a SUCCESS bill with its four-column summary, and LF line ends', async () => {
    const text = [
      '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注',
      '`2019-07-23 18:46:41,`wxa,`1900000109,`0,`,`4200000001,`A1,`o1,`JSAPI,`SUCCESS,`CFT,`CNY,`0.01,`0.00,`商品,`,`0.00000,`0.60%,`0.01,`',
      '总交易单数,应结订单总金额,手续费总金额,订单总金额',
      '`1,`0.01,`0.00000,`0.01',
      '',
    ].join('\n');
    const { rows, summary } = await read(text);
    expect(rows).toEqual([expect.objectContaining({ kind: 'PAYMENT', outTradeNo: 'A1', amount: 1 })]);
    expect(summary).toEqual({ count: 1, settlement: 1, refunds: null, feesMicro: 0, orders: 1 });
  });

  it('refuses a truncated file, a summary that disagrees, the legacy layout and a row of the wrong width', async () => {
    const good = fixture('bills/handwritten-2026-12-01.ALL.csv').toString('utf8');
    const lines = good.split('\r\n');
    await expect(read(lines.slice(0, 3).join('\r\n'))).rejects.toThrow(/before its summary/);
    await expect(read(good.replace('`4.0,', '`5.0,'))).rejects.toThrow(/counts 5 rows/);
    await expect(read(good.replace('`1234587.89,`5.00,', '`1234587.88,`5.00,'))).rejects.toThrow(/应结订单总金额/);
    await expect(
      read(
        '交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,总金额,企业红包金额,手续费\n',
      ),
    ).rejects.toThrow(/legacy/);
    await expect(read(`${lines[0]}\r\n\`a,\`b\r\n`)).rejects.toThrow(/2 fields where the header names 27/);
    await expect(read('')).rejects.toThrow(/no header/);
  });
});

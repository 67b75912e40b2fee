// A downloaded bill, from raw bytes to the port's entries, as a stream: gunzip when asked, a SHA-1 of the
// uncompressed bytes (v3 checks it against hash_value), lines, the format's reader. Shared by v3 and v2.
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BillFormatError, BillReader, linesOf, microToFen, type BillRow } from '../wechatpay/bill';
import { PaymentProviderError, type BillEntry, type BillTotals, type DayBill } from '../domain/ports/payment-provider';

/** The bill's own word for a refund's state, as the port's two: accepted (SUCCESS, PROCESSING) or failed. */
const refundState = (s: string): 'ACCEPTED' | 'FAILED' => (s === 'SUCCESS' || s === 'PROCESSING' ? 'ACCEPTED' : 'FAILED');

function entryOf(row: BillRow): BillEntry {
  const fee = microToFen(row.feeMicro);
  if (row.kind === 'PAYMENT')
    return { kind: 'PAYMENT', reference: row.outTradeNo, transactionId: row.transactionId, amount: row.amount, fee };
  return {
    kind: 'REFUND',
    reference: row.outTradeNo,
    transactionId: row.transactionId,
    outRefundNo: row.outRefundNo,
    providerRefundId: row.refundId,
    amount: row.requested,
    state: refundState(row.status),
    providerStatus: row.status,
    fee,
  };
}

const corrupt = (message: string) => new PaymentProviderError('UNREACHABLE', message, 'BILL_CORRUPT');

/** Reads `bytes` (gzip when `gzip`) as one bill; `sha1`, when given, must match the uncompressed bytes. */
export function readyBill(bytes: AsyncIterable<Buffer>, o: { gzip: boolean; sha1: string | null }): Extract<DayBill, { state: 'READY' }> {
  const reader = new BillReader();
  const hash = crypto.createHash('sha1');
  let totals: BillTotals | null = null;
  let fees = 0;
  let payments = 0;
  async function* plain(): AsyncGenerator<Buffer> {
    const source = o.gzip ? Readable.from(bytes).pipe(createGunzip()) : bytes;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      hash.update(chunk);
      yield chunk;
    }
  }
  async function* text(): AsyncGenerator<string> {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for await (const chunk of plain()) yield decoder.decode(chunk, { stream: true });
    yield decoder.decode();
  }
  async function* entries(): AsyncGenerator<BillEntry> {
    try {
      for await (const line of linesOf(text())) {
        const row = reader.line(line);
        if (!row) continue;
        const e = entryOf(row);
        fees += e.fee;
        if (row.kind === 'PAYMENT') payments += row.settlement;
        yield e;
      }
      const summary = reader.end();
      const digest = hash.digest('hex');
      if (o.sha1 !== null && digest.toLowerCase() !== o.sha1.toLowerCase()) {
        throw corrupt(`the bill's SHA-1 is ${digest}, WeChat Pay announced ${o.sha1}: not stored, fetch it again`);
      }
      totals = {
        payments: summary.settlement ?? payments,
        refunds: summary.refunds ?? 0,
        fees,
      };
    } catch (err) {
      if (err instanceof BillFormatError) throw corrupt(`the bill could not be read: ${err.message}`);
      if (err instanceof TypeError && /decode|encoded/i.test(err.message)) throw corrupt('the bill is not UTF-8');
      if ((err as { code?: string }).code?.startsWith('Z_')) throw corrupt(`the bill's gzip stream is broken (${(err as Error).message})`);
      throw err;
    }
  }
  return {
    state: 'READY',
    entries: entries(),
    totals: () => {
      if (!totals) throw new Error('totals() before the entries were read to the end');
      return totals;
    },
  };
}

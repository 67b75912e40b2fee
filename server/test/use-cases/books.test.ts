// Fast tier: the daily books' rules on the in-memory store and the fake provider — a refund's bill snapshot
// that predates its end, the schedule's due days, one instance per day, a bill not ready released for later,
// and a bill that fails its check mid-stream leaving nothing stored.
import { describe, expect, it } from 'vitest';
import { beijingDate } from '../../src/domain/book-day';
import {
  booksDue,
  booksRound,
  findBookDay,
  listBookDays,
  reconcileDay,
  reconcileDayNow,
  startBooks,
  type BooksDeps,
} from '../../src/domain/books';
import { createOrder } from '../../src/domain/place-order';
import { applyPaymentSucceeded } from '../../src/domain/payment-events';
import { PaymentProviderError, type BillEntry } from '../../src/domain/ports/payment-provider';
import { requestRefund } from '../../src/domain/refunds';
import { fastSystem, type FastSystem } from '../support/fakes';

const DAY = 86_400_000;
const booksOf = (sys: FastSystem): BooksDeps => ({ store: sys.store, provider: sys.provider, now: sys.checkout.now, logger: sys.logger });

async function paidOrder(sys: FastSystem) {
  const user = await sys.shopper();
  const { order } = await createOrder(sys.checkout, user, [{ sku: 'MUG-CERAMIC', quantity: 1 }], null);
  await applyPaymentSucceeded(sys.checkout, sys.provider.pay(order.outTradeNo), 'notification');
  return (await sys.store.findOrder(order.id))!;
}

describe('reconciling a day', () => {
  it('a refund the bill shows as started but which has since closed, as ours says, is not a discrepancy', async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    sys.provider.refundsEnd = 'CLOSED';
    const { refund } = await requestRefund(sys.checkout, order.id, { amount: 100, reason: null }, null);
    expect((await sys.store.findRefund(refund.outRefundNo))!.status).toBe('CLOSED');
    const date = beijingDate(sys.clock.now());
    sys.provider.bills.set(date, [
      { kind: 'PAYMENT', reference: order.outTradeNo!, transactionId: order.transactionId!, amount: order.total, fee: 0 },
      {
        kind: 'REFUND',
        reference: order.outTradeNo!,
        transactionId: order.transactionId!,
        outRefundNo: refund.outRefundNo,
        providerRefundId: 'r1',
        amount: 100,
        state: 'ACCEPTED',
        providerStatus: 'PROCESSING',
        fee: 0,
      },
    ]);
    const out = await reconcileDay(booksOf(sys), date);
    expect(out).toMatchObject({ state: 'RECONCILED', day: { status: 'BALANCED', matched: 2, discrepancies: [] } });
    expect(sys.provider.calls.filter((c) => c.call === 'queryRefund')).toHaveLength(1);
  });

  it('stores nothing when the bill fails its check while it is read, and a later good run stores the day whole', async () => {
    const sys = await fastSystem();
    const order = await paidOrder(sys);
    const date = beijingDate(sys.clock.now());
    const line: BillEntry = {
      kind: 'PAYMENT',
      reference: order.outTradeNo!,
      transactionId: order.transactionId!,
      amount: order.total,
      fee: 0,
    };
    const good = sys.provider.dayBill.bind(sys.provider);
    sys.provider.dayBill = async () => ({
      state: 'READY',
      entries: (async function* () {
        yield line;
        throw new PaymentProviderError('UNREACHABLE', 'hash mismatch', 'BILL_CORRUPT');
      })(),
      totals: () => ({ payments: 0, refunds: 0, fees: 0 }),
    });
    await expect(reconcileDay(booksOf(sys), date)).rejects.toThrow(/hash mismatch/);
    expect(await sys.store.findBookDay(date)).toBeNull();
    sys.provider.dayBill = good;
    const out = await reconcileDay(booksOf(sys), date);
    expect(out.state === 'RECONCILED' && out.day.status).toBe('BALANCED');
  });
});

describe('the schedule', () => {
  it('names the past days within the look-back whose hour has come and that were never reconciled', async () => {
    const sys = await fastSystem(); // the clock starts at 2026-12-01 12:00 Beijing
    const now = sys.clock.now();
    expect(beijingDate(now)).toBe('2026-12-01');
    const at10 = { atMinutes: 10 * 60, lookbackDays: 3 };
    expect(await booksDue(sys.store, now, at10)).toEqual(['2026-11-28', '2026-11-29', '2026-11-30']);
    // At 13:00 yesterday's bill is not due yet.
    expect(await booksDue(sys.store, now, { atMinutes: 13 * 60, lookbackDays: 3 })).toEqual(['2026-11-28', '2026-11-29']);
    await booksRound(booksOf(sys), at10);
    expect(await booksDue(sys.store, now, at10)).toEqual([]);
    expect(await booksDue(sys.store, now + DAY, at10)).toEqual(['2026-12-01']);
    expect(await booksDue(sys.store, now, { atMinutes: 0, lookbackDays: 0 })).toEqual([]);
  });

  it('two instances: each day is reconciled by one of them; a bill not ready is left for the next round', async () => {
    const sys = await fastSystem();
    const deps = booksOf(sys);
    const schedule = { atMinutes: 10 * 60, lookbackDays: 2 };
    sys.provider.bills.set('2026-11-30', 'NOT_READY');
    const asked: string[] = [];
    const counting = {
      ...deps,
      provider: {
        ...deps.provider,
        dayBill: (d: string) => {
          asked.push(d);
          return deps.provider.dayBill(d);
        },
      },
    };
    const seen: string[] = [];
    await Promise.all([
      booksRound(counting, schedule, (o) => seen.push(o.state)),
      booksRound(counting, schedule, (o) => seen.push(o.state)),
    ]);
    // The day that was ready is reconciled by one instance only; the one not ready was released, so the other may ask again.
    expect(asked.filter((d) => d === '2026-11-29')).toHaveLength(1);
    expect(seen.filter((s) => s === 'RECONCILED')).toHaveLength(1);
    expect(await sys.store.findBookDay('2026-11-29')).not.toBeNull();
    expect(await sys.store.findBookDay('2026-11-30')).toBeNull();
    sys.provider.bills.delete('2026-11-30');
    await booksRound(deps, schedule);
    expect(await sys.store.findBookDay('2026-11-30')).toMatchObject({ status: 'BALANCED' });
  });
});

describe("the operator's books", () => {
  it('reconciles a day on demand, and says plainly why it cannot', async () => {
    const sys = await fastSystem();
    const deps = booksOf(sys);
    const today = beijingDate(sys.clock.now());
    await expect(reconcileDayNow(deps, '2026-13-01')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(reconcileDayNow(deps, beijingDate(sys.clock.now() + DAY))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    sys.provider.bills.set(today, 'NOT_READY');
    await expect(reconcileDayNow(deps, today)).rejects.toMatchObject({ code: 'BILL_NOT_READY' });
    sys.provider.dayBill = async () => {
      throw new PaymentProviderError('UNREACHABLE', 'timeout', 'NETWORK');
    };
    await expect(reconcileDayNow(deps, today)).rejects.toMatchObject({ code: 'WECHATPAY_UNREACHABLE' });
    await expect(findBookDay(sys.store, today)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    sys.provider.dayBill = async () => ({ state: 'NONE' });
    expect(await reconcileDayNow(deps, today)).toMatchObject({ date: today, status: 'BALANCED', noBill: true });
    expect(await findBookDay(sys.store, today)).toMatchObject({ date: today });
  });

  it('lists the last 30 days by default, and refuses a range it cannot serve', async () => {
    const sys = await fastSystem();
    const deps = booksOf(sys);
    sys.provider.dayBill = async () => ({ state: 'NONE' });
    await reconcileDayNow(deps, '2026-11-30');
    await reconcileDayNow(deps, '2026-10-01');
    expect(await listBookDays(sys.store, sys.clock.now())).toMatchObject({
      from: '2026-11-02',
      to: '2026-12-01',
      days: [{ date: '2026-11-30' }],
    });
    expect((await listBookDays(sys.store, sys.clock.now(), '2026-09-01')).days.map((d) => d.date)).toEqual(['2026-11-30', '2026-10-01']);
    expect((await listBookDays(sys.store, sys.clock.now(), undefined, '2026-10-20')).from).toBe('2026-09-21');
    await expect(listBookDays(sys.store, sys.clock.now(), '2026-12-01', '2026-11-01')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(listBookDays(sys.store, sys.clock.now(), '2026-01-01', '2026-12-01')).rejects.toThrow(/92 days/);
    await expect(listBookDays(sys.store, sys.clock.now(), '2026-02-31')).rejects.toThrow(/from/);
  });

  it('runs the schedule in the background until stopped', async () => {
    const sys = await fastSystem();
    const days: string[] = [];
    const books = startBooks(
      booksOf(sys),
      { atMinutes: 600, lookbackDays: 1 },
      (o) => o.state === 'RECONCILED' && days.push(o.day.date),
      50,
      0,
    );
    const until = Date.now() + 5000;
    while (days.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await books.stop();
    expect(days).toEqual(['2026-11-30']);
  });
});

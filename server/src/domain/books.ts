// The daily books: every line of the provider's bill for a day matched to the shop's records, and
// every record of the shop's for that day looked for in the bill. What differs is a discrepancy of one
// kind; what the shop's own repair can settle (a payment it missed, a refund whose state it has not
// heard) is repaired here through the same code paths as notifications, and marked so. The rest waits
// for the operator. A day's result is built whole and stored in one write: re-running a day replaces it.
import crypto from 'node:crypto';
import type { Logger } from './ports/logger';
import type { BillEntry, PaymentProvider } from './ports/payment-provider';
import type { BookStore, PageCursor } from './ports/books';
import type { ReplayStore } from './ports/replays';
import type { PaymentDeps } from './deps';
import { AppError, invalid, notFound } from './errors';
import { applyPaymentSucceeded } from './payment-events';
import { type BookDay, beijingDate, beijingDay, type Discrepancy } from './book-day';
import { PaymentProviderError } from './ports/payment-provider';
import { applyRefundReport } from './refunds';
import type { PaymentRecord, Refund, RefundStatus } from './refund';

export interface BooksDeps extends PaymentDeps {
  store: PaymentDeps['store'] & BookStore & ReplayStore;
  provider: PaymentProvider;
  logger: Logger;
  /** Called with the lines read so far, every `progressEvery` lines (long days). */
  onProgress?: (lines: number) => void;
  progressEvery?: number;
}

export type BooksOutcome = { state: 'RECONCILED'; day: BookDay } | { state: 'NOT_READY'; detail: string };

/** A refund the provider accepted and has not given up on, in the bill's two words. */
const refundStateOf = (s: RefundStatus): 'ACCEPTED' | 'FAILED' => (s === 'CLOSED' || s === 'ABNORMAL' ? 'FAILED' : 'ACCEPTED');

const PAGE = 500;
const STAGE_BATCH = 1000;
const paymentCursor = (p: PaymentRecord): PageCursor => ({ at: p.paidAt, key: p.transactionId });
const refundCursor = (r: Refund): PageCursor => ({ at: r.createdAt, key: r.outRefundNo });

export async function reconcileDay(deps: BooksDeps, date: string): Promise<BooksOutcome> {
  const day = beijingDay(date);
  if (!day) throw new RangeError(`not a date: ${date} (YYYY-MM-DD)`);
  const bill = await deps.provider.dayBill(date);
  if (bill.state === 'NOT_READY') return { state: 'NOT_READY', detail: bill.detail };

  const discrepancies: Discrepancy[] = [];
  // What the bill named is staged in the store, a batch at a time, so that our records it does not name can be
  // listed afterwards: memory stays flat however long the day's bill is.
  const run = `${date}/${crypto.randomBytes(6).toString('hex')}`;
  let staged: string[] = [];
  // One batch written while the next is read: the write's commit overlaps the reading, never more than one behind.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    await writing;
    const batch = staged;
    staged = [];
    writing = batch.length ? deps.store.stageBillKeys(run, batch) : Promise.resolve();
  };
  const stage = async (key: string) => {
    staged.push(key);
    if (staged.length >= STAGE_BATCH) await flush();
  };
  let lines = 0;
  let matched = 0;

  const onPayment = async (e: Extract<BillEntry, { kind: 'PAYMENT' }>) => {
    await stage(e.transactionId);
    const ours = await deps.store.findPayment(e.transactionId);
    if (ours) {
      if (ours.amount !== e.amount) {
        discrepancies.push({
          kind: 'AMOUNT_MISMATCH',
          outTradeNo: e.reference,
          transactionId: e.transactionId,
          ours: ours.amount,
          wechat: e.amount,
          repaired: false,
        });
      } else matched += 1;
      return;
    }
    // Paid at the provider, unknown here: ask it, and apply what it says as a notification would be.
    discrepancies.push({
      kind: 'MISSING_LOCALLY',
      outTradeNo: e.reference,
      transactionId: e.transactionId,
      wechat: e.amount,
      ...(await repairPayment(deps, e)),
    });
  };

  const onRefund = async (e: Extract<BillEntry, { kind: 'REFUND' }>) => {
    await stage(e.outRefundNo);
    const ours = await deps.store.findRefund(e.outRefundNo);
    const ids = { outTradeNo: e.reference, outRefundNo: e.outRefundNo, transactionId: e.transactionId };
    if (!ours) {
      discrepancies.push({ kind: 'REFUND_MISSING_LOCALLY', ...ids, wechat: e.amount, repaired: false });
      return;
    }
    if (ours.amount !== e.amount) {
      discrepancies.push({ kind: 'AMOUNT_MISMATCH', ...ids, ours: ours.amount, wechat: e.amount, repaired: false });
      return;
    }
    if (refundStateOf(ours.status) === e.state) {
      matched += 1;
      return;
    }
    // The bill's state is a snapshot taken when the refund started: ask the provider what it is now.
    const now = await refundNow(deps, e.outRefundNo, ours.status);
    if (now.outcome === 'MATCHED') matched += 1;
    else
      discrepancies.push({
        kind: 'REFUND_STATE_MISMATCH',
        ...ids,
        ours: now.status,
        wechat: e.providerStatus,
        repaired: now.outcome === 'REPAIRED',
      });
  };

  let totals = { payments: 0, refunds: 0, fees: 0 };
  let oursPaid = 0;
  let oursRefunded = 0;
  try {
    if (bill.state === 'READY') {
      for await (const e of bill.entries) {
        lines += 1;
        if (e.kind === 'PAYMENT') await onPayment(e);
        else await onRefund(e);
        if (deps.onProgress && lines % (deps.progressEvery ?? 10_000) === 0) deps.onProgress(lines);
      }
      totals = bill.totals();
      await flush();
      await writing;
    }
    // Our side: every payment received and every refund started that day must be in the bill.
    for (let after: PageCursor | null = null; ; ) {
      const page = await deps.store.listPaymentsPaidBetween(day.start, day.end, after, PAGE);
      for (const p of page) oursPaid += p.amount;
      if (page.length < PAGE) break;
      after = paymentCursor(page[page.length - 1]!);
    }
    for (let after: PageCursor | null = null; ; ) {
      const page = await deps.store.listPaymentsPaidBetween(day.start, day.end, after, PAGE, run);
      for (const p of page)
        discrepancies.push({
          kind: 'MISSING_AT_WECHAT',
          outTradeNo: p.outTradeNo,
          transactionId: p.transactionId,
          ours: p.amount,
          repaired: false,
        });
      if (page.length < PAGE) break;
      after = paymentCursor(page[page.length - 1]!);
    }
    for (let after: PageCursor | null = null; ; ) {
      const page = await deps.store.listRefundsCreatedBetween(day.start, day.end, after, PAGE);
      for (const r of page) oursRefunded += r.amount;
      if (page.length < PAGE) break;
      after = refundCursor(page[page.length - 1]!);
    }
    for (let after: PageCursor | null = null; ; ) {
      const page = await deps.store.listRefundsCreatedBetween(day.start, day.end, after, PAGE, run);
      for (const r of page)
        discrepancies.push({
          kind: 'REFUND_MISSING_AT_WECHAT',
          outTradeNo: r.outTradeNo,
          outRefundNo: r.outRefundNo,
          transactionId: r.transactionId,
          ours: r.amount,
          repaired: false,
        });
      if (page.length < PAGE) break;
      after = refundCursor(page[page.length - 1]!);
    }
  } finally {
    await writing.catch(() => undefined); // a batch in flight when something failed: settled before its run is dropped
    await deps.store
      .dropBillKeys(run)
      .catch((err: unknown) => deps.logger.warn({ run, err: (err as Error).message }, 'staged bill keys not dropped'));
  }

  const result: BookDay = {
    date,
    status: discrepancies.length === 0 ? 'BALANCED' : discrepancies.every((d) => d.repaired) ? 'REPAIRED' : 'DISCREPANCIES',
    reconciledAt: deps.now(),
    noBill: bill.state === 'NONE',
    lines,
    matched,
    totals: {
      wechat: {
        payments: totals.payments,
        refunds: totals.refunds,
        fees: totals.fees,
        net: totals.payments - totals.refunds - totals.fees,
      },
      ours: { payments: oursPaid, refunds: oursRefunded },
    },
    discrepancies,
  };
  await deps.store.saveBookDay(result);
  const log = result.status === 'DISCREPANCIES' ? deps.logger.error : deps.logger.info;
  log.call(deps.logger, { date, status: result.status, lines, discrepancies: discrepancies.length }, 'day reconciled against the bill');
  return { state: 'RECONCILED', day: result };
}

async function repairPayment(deps: BooksDeps, e: Extract<BillEntry, { kind: 'PAYMENT' }>): Promise<{ repaired: boolean; detail?: string }> {
  try {
    const status = await deps.provider.query(e.reference);
    if (status?.state !== 'SUCCEEDED')
      return { repaired: false, detail: status ? `the provider says ${status.state}` : 'unknown to the provider' };
    const applied = await applyPaymentSucceeded(deps, status.payment, 'reconcile');
    const recorded = await deps.store.findPayment(e.transactionId);
    return recorded ? { repaired: true, detail: applied.outcome } : { repaired: false, detail: applied.detail ?? applied.outcome };
  } catch (err) {
    return { repaired: false, detail: `query failed: ${(err as Error).message}` };
  }
}

/** The refund as the provider reports it now, applied forward: MATCHED when ours already agreed (the bill's snapshot
 *  predates the refund's end), REPAIRED when applying it brought ours to agree, MISMATCH when they still differ. */
async function refundNow(
  deps: BooksDeps,
  outRefundNo: string,
  before: RefundStatus,
): Promise<{ outcome: 'MATCHED' | 'REPAIRED' | 'MISMATCH'; status: string }> {
  let reported: string | null = null;
  try {
    const report = await deps.provider.queryRefund(outRefundNo);
    if (report) {
      reported = report.status;
      await applyRefundReport(deps, report, 'reconcile');
    }
  } catch (err) {
    deps.logger.warn({ outRefundNo, err: (err as Error).message }, 'refund query failed while reconciling the books');
  }
  const status = (await deps.store.findRefund(outRefundNo))?.status ?? before;
  if (reported !== status) return { outcome: 'MISMATCH', status };
  return { outcome: status === before ? 'MATCHED' : 'REPAIRED', status };
}

export interface BooksSchedule {
  /** Minutes after midnight, Beijing time, from which a day's bill is fetched (the day after). */
  atMinutes: number;
  /** Days looked back for one never reconciled (a missed day is caught up); 0: the schedule is off. */
  lookbackDays: number;
}

/** The days due at `now`: past days within the look-back whose hour has come and that were never reconciled. */
export async function booksDue(store: BookStore, now: number, s: BooksSchedule): Promise<string[]> {
  const due: string[] = [];
  const today = beijingDay(beijingDate(now))!.start;
  for (let back = s.lookbackDays; back >= 1; back -= 1) {
    const start = today - back * 86_400_000;
    if (now < start + 86_400_000 + s.atMinutes * 60_000) continue;
    const date = beijingDate(start);
    if (!(await store.findBookDay(date))) due.push(date);
  }
  return due;
}

/** One round of the schedule: each due day taken by one instance (a claim in the store), reconciled, stored. A day
 *  whose bill is not ready, or whose round failed, is released for the next round. */
export async function booksRound(
  deps: BooksDeps,
  s: BooksSchedule,
  onDay: (outcome: BooksOutcome | { state: 'FAILED'; date: string; error: string }) => void = () => undefined,
): Promise<void> {
  for (const date of await booksDue(deps.store, deps.now(), s)) {
    const key = `books:${date}`;
    if (!(await deps.store.claimOnce(key, deps.now() + 15 * 60_000, deps.now()))) continue; // another instance has it
    try {
      const outcome = await reconcileDay(deps, date);
      if (outcome.state === 'NOT_READY') await deps.store.releaseClaim(key);
      onDay(outcome);
    } catch (err) {
      await deps.store.releaseClaim(key).catch(() => undefined);
      deps.logger.warn({ date, err: (err as Error).message }, 'daily books failed; tried again next round');
      onDay({ state: 'FAILED', date, error: (err as Error).message });
    }
  }
}

// ——— The operator's use cases ———

/** Reconciles a day now (the operator's button): the day's result, or BILL_NOT_READY while WeChat writes the bill. */
export async function reconcileDayNow(deps: BooksDeps, date: string): Promise<BookDay> {
  const day = beijingDay(date);
  if (!day) throw invalid('date', 'a date as YYYY-MM-DD');
  if (day.start > deps.now()) throw invalid('date', 'a day that has begun (Beijing time)');
  let outcome: BooksOutcome;
  try {
    outcome = await reconcileDay(deps, date);
  } catch (err) {
    if (err instanceof PaymentProviderError)
      throw new AppError('WECHATPAY_UNREACHABLE', `WeChat Pay's bill for ${date} could not be read: ${err.message}`, {
        providerCode: err.providerCode,
        requestId: err.requestId,
      });
    throw err;
  }
  if (outcome.state === 'NOT_READY')
    throw new AppError(
      'BILL_NOT_READY',
      `WeChat Pay is still writing the bill for ${date} (usually ready from 10:00 Beijing time the next day); try again later`,
      {
        detail: outcome.detail,
      },
    );
  return outcome.day;
}

export async function findBookDay(store: BookStore, date: string): Promise<BookDay> {
  if (!beijingDay(date)) throw invalid('date', 'a date as YYYY-MM-DD');
  const day = await store.findBookDay(date);
  if (!day) throw notFound(`the books of ${date}`);
  return day;
}

/** Days from `from` to `to` (defaults: the 30 days up to today), at most 92. */
export async function listBookDays(
  store: BookStore,
  now: number,
  from?: string,
  to?: string,
): Promise<{ from: string; to: string; days: BookDay[] }> {
  const last = to ?? beijingDate(now);
  const first = from ?? beijingDate((beijingDay(last)?.start ?? now) - 29 * 86_400_000);
  const a = beijingDay(first);
  const b = beijingDay(last);
  if (!a) throw invalid('from', 'a date as YYYY-MM-DD');
  if (!b) throw invalid('to', 'a date as YYYY-MM-DD');
  if (a.start > b.start) throw invalid('from', 'on or before `to`');
  if (b.start - a.start > 91 * 86_400_000) throw invalid('from', 'at most 92 days before `to`');
  return { from: first, to: last, days: await store.listBookDays(first, last) };
}

/** Runs the schedule: a round `firstMs` after start, then every `everyMs` (10 minutes), until stopped. */
export function startBooks(
  deps: BooksDeps,
  s: BooksSchedule,
  onDay: Parameters<typeof booksRound>[2],
  everyMs = 10 * 60_000,
  firstMs = 5_000,
): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const tick = (delay: number) => {
    if (stopped || s.lookbackDays === 0) return;
    timer = setTimeout(() => {
      running = booksRound(deps, s, onDay)
        .catch((err: unknown) => deps.logger.warn({ err: (err as Error).message }, 'daily books round failed'))
        .finally(() => {
          running = null;
          tick(everyMs);
        });
    }, delay);
    timer.unref();
  };
  tick(firstMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

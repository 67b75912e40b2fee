// The daily books: each day's reconciliation against the provider's bill, stored whole (a day is
// replaced in one write, never half stored), and the shop's own payments and refunds of a day.
import type { BookDay } from '../book-day';
import type { PaymentRecord, Refund } from '../refund';

/** Where the last page ended: its last record's time and key. */
export interface PageCursor {
  at: number;
  key: string;
}

export interface BookStore {
  /** Replaces the day's result in one write. */
  saveBookDay(day: BookDay): Promise<void>;
  findBookDay(date: string): Promise<BookDay | null>;
  /** Days from `from` to `to` inclusive (`YYYY-MM-DD`), newest first. */
  listBookDays(from: string, to: string): Promise<BookDay[]>;
  /** Payments with `from <= paidAt < to`, by (paidAt, transaction id), after the cursor `after` (a page of `limit`); with
   *  `notIn`, only those whose transaction id was not staged under that run (stageBillKeys). */
  listPaymentsPaidBetween(from: number, to: number, after: PageCursor | null, limit: number, notIn?: string): Promise<PaymentRecord[]>;
  /** Refunds with `from <= createdAt < to`, by (createdAt, out_refund_no), after the cursor `after` (a page of `limit`);
   *  with `notIn`, only those whose out_refund_no was not staged under that run. */
  listRefundsCreatedBetween(from: number, to: number, after: PageCursor | null, limit: number, notIn?: string): Promise<Refund[]>;
  /** Remembers keys (transaction ids, out_refund_nos) a bill named, under a run, so our records it did not name can be
   *  listed without holding the bill's keys in memory. */
  stageBillKeys(run: string, keys: readonly string[]): Promise<void>;
  /** Forgets a run's keys. */
  dropBillKeys(run: string): Promise<void>;
}

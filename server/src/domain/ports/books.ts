// The daily books: each day's reconciliation against the provider's bill, stored whole (a day is
// replaced in one write, never half stored), and the shop's own payments and refunds of a day.
import type { BookDay } from '../book-day';
import type { PaymentRecord, Refund } from '../refund';

export interface BookStore {
  /** Replaces the day's result in one write. */
  saveBookDay(day: BookDay): Promise<void>;
  findBookDay(date: string): Promise<BookDay | null>;
  /** Days from `from` to `to` inclusive (`YYYY-MM-DD`), newest first. */
  listBookDays(from: string, to: string): Promise<BookDay[]>;
  /** Payments with `from <= paidAt < to`, by transaction id, after `after` (a page of `limit`). */
  listPaymentsPaidBetween(from: number, to: number, after: string | null, limit: number): Promise<PaymentRecord[]>;
  /** Refunds with `from <= createdAt < to`, by out_refund_no, after `after` (a page of `limit`). */
  listRefundsCreatedBetween(from: number, to: number, after: string | null, limit: number): Promise<Refund[]>;
}

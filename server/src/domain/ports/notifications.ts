// Notifications the provider delivered: each verified one recorded once per (id, order reference), with
// its deliveries counted; refused deliveries kept as a bounded sample.
import type { NotificationOutcome, NotificationRecord, RejectedNotification } from '../notification';

export interface NotificationStore {
  /** One write: inserts the record, or, when the (id, outTradeNo) pair is known, counts one more delivery
   *  (lastReceivedAt from `record`) and, only when the stored outcome is one of `replaces`, sets outcome and detail. */
  recordNotification(
    record: NotificationRecord,
    replaces: readonly NotificationOutcome[],
  ): Promise<{ record: NotificationRecord; duplicate: boolean }>;
  /** A notification id names one delivery chain for one order: the same id for another order is another notification. */
  findNotification(id: string, outTradeNo: string | null): Promise<NotificationRecord | null>;
  /** The notifications naming any of these references, oldest first. */
  listNotificationsFor(outTradeNos: readonly string[]): Promise<NotificationRecord[]>;
  recordRejectedNotification(rejected: RejectedNotification): Promise<void>;
  countRejectedNotifications(): Promise<number>;
  /** Keeps the newest `keep` rejected deliveries, deleting older ones. */
  trimRejectedNotifications(keep: number): Promise<void>;
}

// The store the wiring hands out: every aggregate's port in one object, one adapter behind it
// (storage/sqlite, storage/mongo). Use cases ask for the narrow ports they use. Adapters turn driver
// errors into DuplicateKeyError or StoreUnavailableError (domain/errors.ts) and decide no rule: where
// they select by one, the domain states it as a predicate and the contract suite holds them to it.
import type { BookStore } from './books';
import type { ComplaintStore } from './complaints';
import type { SubscriptionStore } from './subscriptions';
import type { CatalogStore } from './catalog';
import type { LeaseStore } from './leases';
import type { NotificationStore } from './notifications';
import type { OpsSessionStore } from './ops-sessions';
import type { OrderStore } from './orders';
import type { PaymentStore } from './payments';
import type { ReplayStore } from './replays';
import type { ShipmentStore } from './shipments';
import type { UserStore } from './users';

export type StoreMethods = UserStore &
  CatalogStore &
  OrderStore &
  LeaseStore &
  PaymentStore &
  NotificationStore &
  ShipmentStore &
  ReplayStore &
  OpsSessionStore &
  BookStore &
  ComplaintStore &
  SubscriptionStore;

export interface StoreCommitStats {
  /** Transactions committed. */
  commits: number;
  /** Writes those transactions held. */
  writes: number;
  /** Syncs of the log to disk, each covering every commit made before it began. */
  syncs: number;
  /** Their time in all, in milliseconds. */
  syncMs: number;
}

export interface Store extends StoreMethods {
  readonly kind: 'sqlite' | 'mongodb' | 'memory';
  /** How many transactions were committed and how many writes they held; where the adapter counts. */
  commitStats?(): StoreCommitStats;
  close(): Promise<void>;
}

/** Whether each port method reads or writes: metrics time the writes. Typed against the ports, so a method
 *  added to a port without a line here (or a line for a method that is gone) does not compile. */
export const STORE_METHODS: { readonly [K in keyof StoreMethods]: 'read' | 'write' } = {
  upsertUser: 'write',
  findUserById: 'read',
  createSession: 'write',
  findSession: 'read',
  findSessionUser: 'read',
  deleteSession: 'write',
  deleteSessionsOfUser: 'write',
  purgeExpiredSessions: 'write',
  listProducts: 'read',
  seedProducts: 'write',
  insertOrder: 'write',
  findOrder: 'read',
  findOrderRecords: 'read',
  findRecordsOfOrders: 'read',
  findOrderByIdempotencyKey: 'read',
  listOrdersByUser: 'read',
  listOrders: 'read',
  findAttempt: 'read',
  listAttempts: 'read',
  setPrepay: 'write',
  replaceAttempt: 'write',
  markPaid: 'write',
  markClosed: 'write',
  flagForReview: 'write',
  listReconcileCandidates: 'read',
  claimOrder: 'write',
  releaseOrder: 'write',
  recordPayment: 'write',
  findPayment: 'read',
  listPayments: 'read',
  insertRefund: 'write',
  moveRefund: 'write',
  setRefundProviderId: 'write',
  findRefund: 'read',
  findRefundByIdempotencyKey: 'read',
  listRefunds: 'read',
  listRefundsToReconcile: 'read',
  recordNotification: 'write',
  findNotification: 'read',
  listNotificationsFor: 'read',
  recordRejectedNotification: 'write',
  countRejectedNotifications: 'read',
  trimRejectedNotifications: 'write',
  findShipment: 'read',
  saveShipment: 'write',
  listShipmentsToSync: 'read',
  claimOnce: 'write',
  releaseClaim: 'write',
  purgeClaims: 'write',
  createOpsSession: 'write',
  findOpsSession: 'read',
  touchOpsSession: 'write',
  deleteOpsSession: 'write',
  purgeOpsSessions: 'write',
  saveBookDay: 'write',
  findBookDay: 'read',
  listBookDays: 'read',
  listPaymentsPaidBetween: 'read',
  listRefundsCreatedBetween: 'read',
  stageBillKeys: 'write',
  dropBillKeys: 'write',
  findComplaint: 'read',
  saveComplaint: 'write',
  listComplaints: 'read',
  insertCredit: 'write',
  saveCredit: 'write',
  listCredits: 'read',
  listCreditsToSend: 'read',
};

export type {
  SubscriptionStore,
  BookStore,
  ComplaintStore,
  CatalogStore,
  LeaseStore,
  NotificationStore,
  OpsSessionStore,
  OrderStore,
  PaymentStore,
  ReplayStore,
  ShipmentStore,
  UserStore,
};
export type { OrderLease } from './leases';
export type { OrderRecords, PaidRecords, PaidUpdate } from './orders';
export { recordsOfPage } from './orders';
export type { RefundFields } from './payments';

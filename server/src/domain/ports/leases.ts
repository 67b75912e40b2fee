// Leases on orders: while one is held, only its owner (a checkout, a Retry, a reconciliation round)
// calls the payment provider about the order. Several processes share them through the store.
import type { OrderLease } from '../order';

export type { OrderLease };

export interface LeaseStore {
  /** Takes the lease on a PENDING order that nobody holds at `now`; false if someone does (or the order is not PENDING). One conditional write. */
  claimOrder(orderId: string, owner: string, leaseUntil: number, now: number): Promise<boolean>;
  /** Gives the lease back, only if `owner` holds it. */
  releaseOrder(orderId: string, owner: string): Promise<void>;
}

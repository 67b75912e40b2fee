// What the use cases are given: built once by the composition root (server/src/wiring.ts), passed as
// arguments. Each names the narrow ports it uses.
import type { Logger } from './ports/logger';
import type { PaymentProvider } from './ports/payment-provider';
import type { SubscriptionStore } from './ports/subscriptions';
import type { CatalogStore, ComplaintStore, LeaseStore, NotificationStore, OrderStore, PaymentStore, ShipmentStore } from './ports/store';

/** The records a payment touches: orders and their leases, payments and refunds, notifications. */
export type PaymentStores = OrderStore & LeaseStore & PaymentStore & NotificationStore;

export interface PaymentDeps {
  store: PaymentStores;
  provider: PaymentProvider;
  now: () => number;
  logger: Logger;
}

export interface CheckoutDeps extends PaymentDeps {
  /** Checkout also prices carts from the catalog and shows an order's shipment. */
  store: PaymentStores & CatalogStore & ShipmentStore & ComplaintStore & SubscriptionStore;
  payWindowMs: number;
  queryThrottleMs: number;
  /** Per-process memory of when each order was last queried at the provider. */
  queryThrottle: Map<string, number>;
  /** How long a claim on one order lasts: longer than the provider calls made under it. */
  leaseMs: number;
  /** Whether the process may ask the provider about an order now (a process-wide budget for order reads). */
  mayQueryProvider(): Promise<boolean>;
  /** Waits (the lease's retry loop); tests pass one that moves their clock instead. */
  sleep(ms: number): Promise<void>;
}

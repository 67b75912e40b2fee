// What the use cases are given: built once at boot (server.ts), passed as arguments.
import type { Logger } from 'pino';
import type { PaymentProvider } from '../payments/port';
import type { Store } from '../storage/port';

export interface PaymentDeps {
  store: Store;
  provider: PaymentProvider;
  now: () => number;
  logger: Logger;
}

export interface CheckoutDeps extends PaymentDeps {
  payWindowMs: number;
  queryThrottleMs: number;
  /** Per-process memory of when each order was last queried at the provider. */
  queryThrottle: Map<string, number>;
  /** How long a claim on one order lasts: longer than the provider calls made under it. */
  leaseMs: number;
  /** Whether the process may ask the provider about an order now (a process-wide budget for order reads). */
  mayQueryProvider(): Promise<boolean>;
}

// Send credits for subscribe messages, saved by conditional writes on their version.
import type { SendCredit } from '../subscription';

export interface SubscriptionStore {
  /** Inserts a credit; false when one exists for its order and kind (the first acceptance stands). */
  insertCredit(credit: SendCredit): Promise<boolean>;
  /** Saves `next` only if the stored version is `expectedVersion`. True for the call that wrote. */
  saveCredit(next: SendCredit, expectedVersion: number): Promise<boolean>;
  listCredits(orderId: string): Promise<SendCredit[]>;
  /** The credits `isSendable` (domain/subscription.ts) accepts at `now`, oldest first. */
  listCreditsToSend(now: number, limit: number): Promise<SendCredit[]>;
}

// Shipments: one per paid order, saved by conditional writes on its version.
import type { Shipment } from '../shipment';

export interface ShipmentStore {
  /** The order's shipment, or null while it is to ship. */
  findShipment(orderId: string): Promise<Shipment | null>;
  /** Saves `next` only if the stored shipment's version is `expectedVersion` (null: only if there is none).
   *  True for the call that wrote; the domain decides what `next` is. */
  saveShipment(next: Shipment, expectedVersion: number | null): Promise<boolean>;
  /** The shipments `needsShipmentSync` (domain/shipment.ts) accepts at `now`, least recently updated first. */
  listShipmentsToSync(now: number, limit: number): Promise<Shipment[]>;
}

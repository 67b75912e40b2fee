// Complaints: one record per complaint, saved by conditional writes on its version (the domain decides what
// the next record is; a concurrent change makes the write fail and the caller reads again).
import type { Complaint, ComplaintState } from '../complaint';

export interface ComplaintStore {
  findComplaint(id: string): Promise<Complaint | null>;
  /** Saves `next` only if the stored version is `expectedVersion` (null: only if there is none). True for the call that wrote. */
  saveComplaint(next: Complaint, expectedVersion: number | null): Promise<boolean>;
  /** Complaints in `state` (all when absent), or of one order, at most `limit`, by deadline then newest. */
  listComplaints(filter: { state?: ComplaintState; orderId?: string; limit: number }): Promise<Complaint[]>;
}

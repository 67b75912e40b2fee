// Refused notification deliveries (bad signatures, stale timestamps, probes, junk) cost strangers
// nothing of ours: each is counted by reason in memory; only a sample is written to the store (with
// header values truncated, and the table kept to a bounded size) and to the log. WeChat's genuine
// deliveries never come here.
import type { Logger } from './ports/logger';
import type { NotificationStore } from './ports/store';
import type { RejectedNotification } from './notification';

export interface RefusalLog {
  /** Counts the refusal; records and logs it only while under this minute's sample for its reason. */
  note(refusal: RejectedNotification): Promise<void>;
  /** Refusals since start, by reason. */
  counts(): Record<string, number>;
}

export interface RefusalLogOptions {
  store: NotificationStore;
  logger: Logger;
  now: () => number;
  /** Per reason and minute: how many are written to the store and the log. */
  samplePerMinute?: number;
  /** At most this many refusals are kept in the store (the oldest go first). */
  keep?: number;
}

const HEADER_LIMIT = 64;
const truncate = (v: string | null) => (v === null ? null : v.length > HEADER_LIMIT ? `${v.slice(0, HEADER_LIMIT)}…` : v);

export function createRefusalLog(o: RefusalLogOptions): RefusalLog {
  const sample = o.samplePerMinute ?? 5;
  const keep = o.keep ?? 1000;
  const counts = new Map<string, number>();
  let minute = -1;
  let inMinute = new Map<string, number>();
  let unlogged = 0;
  let sinceTrim = 0;
  return {
    counts: () => Object.fromEntries(counts),
    async note(r) {
      counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
      const m = Math.floor(o.now() / 60_000);
      if (m !== minute) {
        if (unlogged) o.logger.warn({ unlogged }, 'refused notification deliveries not logged last minute (counted by reason)');
        minute = m;
        inMinute = new Map();
        unlogged = 0;
      }
      const n = (inMinute.get(r.reason) ?? 0) + 1;
      inMinute.set(r.reason, n);
      if (n > sample) {
        unlogged += 1;
        return;
      }
      const record = { ...r, serial: truncate(r.serial), requestId: truncate(r.requestId) };
      o.logger.warn({ reason: record.reason, serial: record.serial }, 'notification rejected'); // WeChat's Request-ID: in the log context
      try {
        await o.store.recordRejectedNotification(record);
        if (++sinceTrim >= 100) {
          sinceTrim = 0;
          await o.store.trimRejectedNotifications(keep);
        }
      } catch (err) {
        o.logger.error({ err: (err as Error).message }, 'could not record a rejected notification');
      }
    },
  };
}

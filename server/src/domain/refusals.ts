// What strangers send that is refused (bad signatures, stale timestamps, probes, replays, junk) costs them
// nothing of ours: each refusal is counted by reason in memory, and only a sample per reason and minute
// reaches the log (and, for payment notifications, the store, with header values truncated and the table
// kept to a bounded size). Genuine deliveries never come here.
import type { RejectedNotification } from './notification';
import type { Logger } from './ports/logger';
import type { NotificationStore } from './ports/store';

export interface RefusalSampler {
  /** Counts the refusal; true while this minute's sample for its reason is not used up (record it then). */
  sample(reason: string): boolean;
  /** Refusals since start, by reason. */
  counts(): Record<string, number>;
}

export interface SamplerOptions {
  logger: Logger;
  now: () => number;
  /** What is refused, for the line that says how many went unlogged ("notification deliveries"). */
  what: string;
  /** Per reason and minute: how many are sampled. */
  samplePerMinute?: number;
}

export function createRefusalSampler(o: SamplerOptions): RefusalSampler {
  const sample = o.samplePerMinute ?? 5;
  const counts = new Map<string, number>();
  let minute = -1;
  let inMinute = new Map<string, number>();
  let unlogged = 0;
  return {
    counts: () => Object.fromEntries(counts),
    sample(reason) {
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
      const m = Math.floor(o.now() / 60_000);
      if (m !== minute) {
        if (unlogged) o.logger.warn({ unlogged }, `refused ${o.what} not logged last minute (counted by reason)`);
        minute = m;
        inMinute = new Map();
        unlogged = 0;
      }
      const n = (inMinute.get(reason) ?? 0) + 1;
      inMinute.set(reason, n);
      if (n <= sample) return true;
      unlogged += 1;
      return false;
    },
  };
}

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

/** Refused payment notifications: sampled into the log and the store. */
export function createRefusalLog(o: RefusalLogOptions): RefusalLog {
  const sampler = createRefusalSampler({
    logger: o.logger,
    now: o.now,
    what: 'notification deliveries',
    samplePerMinute: o.samplePerMinute,
  });
  const keep = o.keep ?? 1000;
  let sinceTrim = 0;
  return {
    counts: sampler.counts,
    async note(r) {
      if (!sampler.sample(r.reason)) return;
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

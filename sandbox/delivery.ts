// Notification delivery on WeChat's schedule: signed, encrypted, retried until answered 2xx,
// with the test switches for drops, duplicates, delays and SIGNTEST probes.
import { buildNotification } from './notify';
import { defaultSigner, transactionOf, type SandboxOrder, type SandboxState } from './state';

/** WeChat's documented notification retry schedule after the first attempt, in seconds. */
export const RETRY_SCHEDULE_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

export interface DeliveryRecord {
  outTradeNo: string;
  attempt: number;
  status: number | 'error';
  probe: boolean;
  at: number;
}

export interface Deliveries {
  records: DeliveryRecord[];
  /** Starts delivering a paid order's notification (unless the order's notifications are dropped). */
  schedule(o: SandboxOrder): void;
  /** Resolves once every scheduled notification has been delivered or given up. */
  idle(): Promise<void>;
  stop(): void;
}

export function createDeliveries(s: SandboxState): Deliveries {
  const records: DeliveryRecord[] = [];
  const timers = new Map<NodeJS.Timeout, () => void>();
  const pending = new Set<Promise<void>>();
  let stopped = false;

  function later(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });
  }

  async function post(url: string, body: string, headers: Record<string, string>): Promise<number | 'error'> {
    try {
      const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 'error';
    }
  }

  async function deliver(o: SandboxOrder): Promise<void> {
    const outTradeNo = o.body.out_trade_no;
    const id = crypto.randomUUID(); // retries reuse the same notification id
    if (s.controls.notificationDelayMs) await later(s.controls.notificationDelayMs);
    for (let attempt = 0; attempt <= RETRY_SCHEDULE_S.length && !stopped; attempt++) {
      if (attempt > 0) await later(RETRY_SCHEDULE_S[attempt - 1]! * 1000 * s.controls.timeScale);
      if (stopped) return;
      const signer = defaultSigner(s);
      if (attempt === 0 && s.controls.signtestProbes) {
        const probe = buildNotification({ apiV3Key: s.keys.apiV3Key, signer, transaction: transactionOf(o), id, nowMs: s.now(), signtest: true });
        records.push({ outTradeNo, attempt, status: await post(o.body.notify_url, probe.body, probe.headers), probe: true, at: s.now() });
        continue; // a probe must be refused; the real delivery follows on the retry schedule
      }
      const copies = 1 + s.controls.duplicateNotifications;
      const results = await Promise.all(
        Array.from({ length: copies }, async () => {
          const d = buildNotification({ apiV3Key: s.keys.apiV3Key, signer, transaction: transactionOf(o), id, nowMs: s.now() });
          const status = await post(o.body.notify_url, d.body, d.headers);
          records.push({ outTradeNo, attempt, status, probe: false, at: s.now() });
          return status;
        }),
      );
      if (results.some((r) => r === 200 || r === 204)) return;
    }
  }

  return {
    records,
    schedule(o) {
      if (o.dropNotifications) return;
      const p = deliver(o).finally(() => pending.delete(p));
      pending.add(p);
    },
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
    stop() {
      stopped = true;
      for (const [t, resolve] of timers) {
        clearTimeout(t);
        resolve();
      }
      timers.clear();
    },
  };
}

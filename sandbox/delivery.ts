// Notification delivery on WeChat's schedule: signed, encrypted, retried until answered 2xx,
// with the test switches for drops, duplicates, delays and SIGNTEST probes. Payments and refunds
// are delivered alike.
import { buildNotification, type SignedDelivery } from './notify';
import { parseV2Xml } from '../server/src/wechatpay/v2/xml';
import { v2PaymentNotification, v2RefundNotification } from './v2-notify';
import { defaultSigner, refundNotificationOf, transactionOf, type SandboxOrder, type SandboxRefund, type SandboxState } from './state';

/** WeChat's documented notification retry schedule after the first attempt, in seconds. */
export const RETRY_SCHEDULE_S = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];

export interface DeliveryRecord {
  kind: 'payment' | 'refund' | 'complaint';
  outTradeNo: string;
  outRefundNo?: string;
  attempt: number;
  status: number | 'error';
  /** Whether the answer acknowledged it: 200/204 (v3); 200 with return_code SUCCESS in WeChat's XML (v2). */
  acknowledged: boolean;
  probe: boolean;
  /** v3: the serial of the key that signed it (the public key's id, or a platform certificate's). */
  serial?: string;
  at: number;
}

export interface Deliveries {
  records: DeliveryRecord[];
  /** Starts delivering a paid order's notification (unless the order's notifications are dropped);
   *  `transactionId` names another transaction of the same order (a duplicate charge). */
  schedule(o: SandboxOrder, transactionId?: string): void;
  /** Starts delivering an ended refund's notification (unless dropped). */
  scheduleRefund(r: SandboxRefund): void;
  /** Starts delivering a COMPLAINT.* notification (v3) to `url`; `outTradeNo` in its records holds the complaint id. */
  scheduleComplaint(url: string, complaintId: string, resource: () => Record<string, unknown>, eventType: string): void;
  /** Runs `fn` after `ms`, unless the sandbox stops first. */
  after(ms: number, fn: () => void): void;
  /** Resolves once every scheduled notification has been delivered or given up. */
  idle(): Promise<void>;
  stop(): void;
}

interface Job {
  url: string;
  record: Pick<DeliveryRecord, 'kind' | 'outTradeNo' | 'outRefundNo'>;
  /** One delivery (a fresh timestamp and nonce each time); `id` stays the same across retries. */
  build(id: string, signtest: boolean): SignedDelivery;
  /** Whether this kind of delivery takes SIGNTEST probes first (v3 payments). */
  probes: boolean;
  /** Whether the merchant's answer acknowledges the delivery (else it is sent again). */
  acknowledges(answer: Answer): boolean;
}

type Answer = { status: number; body: string } | 'error';

/** v3: a 2xx without a body worth reading (WeChat documents 200 or 204). */
const v3Acknowledges = (a: Answer) => a !== 'error' && (a.status === 200 || a.status === 204);
/** v2: HTTP 200 and WeChat's XML with return_code SUCCESS; FAIL, "success" or anything else is sent again. */
function v2Acknowledges(a: Answer): boolean {
  if (a === 'error' || a.status !== 200) return false;
  try {
    return parseV2Xml(a.body).return_code === 'SUCCESS';
  } catch {
    return false;
  }
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

  async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
    try {
      const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: await res.text() };
    } catch {
      return 'error';
    }
  }
  const statusOf = (a: Answer) => (a === 'error' ? a : a.status);

  async function deliver(job: Job): Promise<void> {
    const id = crypto.randomUUID(); // retries reuse the same notification id
    if (s.controls.notificationDelayMs) await later(s.controls.notificationDelayMs);
    const build = (signtest = false) => job.build(id, signtest);
    for (let attempt = 0; attempt <= RETRY_SCHEDULE_S.length && !stopped; attempt++) {
      if (attempt > 0) await later(RETRY_SCHEDULE_S[attempt - 1]! * 1000 * s.controls.timeScale);
      if (stopped) return;
      if (attempt === 0 && job.probes && s.controls.signtestProbes) {
        const probe = build(true);
        const answer = await post(job.url, probe.body, probe.headers);
        records.push({
          ...job.record,
          attempt,
          status: statusOf(answer),
          acknowledged: job.acknowledges(answer),
          probe: true,
          at: s.now(),
        });
        continue; // a probe must be refused; the real delivery follows on the retry schedule
      }
      const copies = 1 + s.controls.duplicateNotifications;
      const results = await Promise.all(
        Array.from({ length: copies }, async () => {
          const d = build();
          const answer = await post(job.url, d.body, d.headers);
          const acknowledged = job.acknowledges(answer);
          const serial = d.headers['Wechatpay-Serial'];
          records.push({
            ...job.record,
            attempt,
            status: statusOf(answer),
            acknowledged,
            probe: false,
            ...(serial ? { serial } : {}),
            at: s.now(),
          });
          return acknowledged;
        }),
      );
      if (results.includes(true)) return;
    }
  }

  const v3 =
    (resource: () => Record<string, unknown>, originalType: 'transaction' | 'refund' | 'complaint', eventType: string) =>
    (id: string, signtest: boolean) =>
      buildNotification({
        apiV3Key: s.keys.apiV3Key,
        signer: defaultSigner(s),
        transaction: resource(),
        originalType,
        eventType,
        id,
        nowMs: s.now(),
        signtest,
      });
  const v2 = (xml: () => string) => (): SignedDelivery => ({ body: xml(), headers: { 'Content-Type': 'text/xml' } });

  const start = (job: Job) => {
    const p = deliver(job).finally(() => pending.delete(p));
    pending.add(p);
  };

  return {
    records,
    scheduleComplaint(url, complaintId, resource, eventType) {
      start({
        url,
        record: { kind: 'complaint', outTradeNo: complaintId },
        build: v3(resource, 'complaint', eventType),
        probes: false,
        acknowledges: v3Acknowledges,
      });
    },
    schedule(o, transactionId) {
      if (o.dropNotifications && !transactionId) return;
      start({
        url: o.body.notify_url,
        record: { kind: 'payment', outTradeNo: o.body.out_trade_no },
        build:
          o.api === 'v2'
            ? v2(() => v2PaymentNotification(s, o, transactionId))
            : v3(
                () => ({ ...transactionOf(o), ...(transactionId ? { transaction_id: transactionId } : {}) }),
                'transaction',
                'TRANSACTION.SUCCESS',
              ),
        probes: o.api === 'v3',
        acknowledges: o.api === 'v2' ? v2Acknowledges : v3Acknowledges,
      });
    },
    scheduleRefund(r) {
      if (r.dropNotifications || !r.notifyUrl) return;
      start({
        url: r.notifyUrl,
        record: { kind: 'refund', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo },
        build: r.api === 'v2' ? v2(() => v2RefundNotification(s, r)) : v3(() => refundNotificationOf(s, r), 'refund', `REFUND.${r.status}`),
        probes: false,
        acknowledges: r.api === 'v2' ? v2Acknowledges : v3Acknowledges,
      });
    },
    after(ms, fn) {
      const p = later(ms).then(() => {
        if (!stopped) fn();
      });
      const tracked = p.finally(() => pending.delete(tracked));
      pending.add(tracked);
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

// What the ops page's forms send, read into the domain's terms: yuan into fen exactly, a shipment.
import type { ShipInput } from '../../domain/fulfilment';
import type { LogisticsType } from '../../domain/shipment';
import { LOGISTICS } from './words';

/** "12.34" or "12" yuan → 1234 fen, exactly; null for anything else. */
export function parseYuan(input: string): number | null {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(input);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** The ship form: a logistics type, and for express one package (carrier and tracking number); null without a type. */
export function shipInputOf(body: Record<string, unknown> | undefined): ShipInput | null {
  const type = String(body?.logisticsType ?? '') as LogisticsType;
  if (!Object.hasOwn(LOGISTICS, type)) return null;
  const carrier = String(body?.carrier ?? '').trim();
  const trackingNo = String(body?.trackingNo ?? '').trim();
  return { logisticsType: type, packages: type === 'express' ? [{ carrier, trackingNo }] : [] };
}

/** The refund form: an amount in fen, a reason, and the form's one-time key (a double submit is one refund). */
export function refundInputOf(body: Record<string, unknown> | undefined): {
  amount: number | null;
  reason: string | null;
  key: string | null;
} {
  const reason =
    String(body?.reason ?? '')
      .trim()
      .slice(0, 80) || null;
  const key = /^[\w-]{1,64}$/.test(String(body?.key ?? '')) ? `ops-${String(body?.key)}` : null;
  return { amount: parseYuan(String(body?.amount ?? '')), reason, key };
}

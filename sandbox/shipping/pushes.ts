// Message pushes to the merchant (shipping.md §4): safe mode, JSON, the message AES-encrypted with the
// EncodingAESKey and signed over the ciphertext, retried a few times; and the order moves that send
// them — shipped (with the estimated settlement), then receipt confirmed and settled.
import crypto from 'node:crypto';
import { MESSAGES_PATH } from '../../server/src/config';
import { aesKeyOf, encryptMessage, pushSignature } from '../../server/src/wechat/message-crypto';
import { ORDER_STATE } from '../../server/src/wechat/shipping-api';
import type { SandboxState } from '../state';
import type { ShippingControls, ShippingOrder } from './common';

export interface PushRecord {
  event: string;
  url: string;
  body: Record<string, unknown>;
  attempts: number;
  status: 'delivered' | 'failed' | 'dropped';
}

export interface SandboxPushes {
  records: PushRecord[];
  push(r: ShippingOrder, event: string, fields: Record<string, unknown>): Promise<void>;
  /** The order is shipped: SHIPPED, a push with the estimated settlement, and the auto-confirm timer. */
  shipped(r: ShippingOrder): void;
  /** Receipt confirmed (1 by the platform's timer, 2 by the shopper): settled at once, with one push. */
  received(r: ShippingOrder, method: 1 | 2): void;
  stop(): void;
}

export function createSandboxPushes(
  s: SandboxState,
  controls: ShippingControls,
  o: { later: (ms: number) => Promise<void>; orders: () => Iterable<ShippingOrder> },
): SandboxPushes {
  const records: PushRecord[] = [];
  let stopped = false;
  const target = (r: ShippingOrder): string | null => {
    const order = s.orders.get(r.outTradeNo);
    try {
      return order ? new URL(MESSAGES_PATH, order.body.notify_url).toString() : null;
    } catch {
      return null;
    }
  };

  async function push(r: ShippingOrder, event: string, fields: Record<string, unknown>): Promise<void> {
    const url = target(r);
    const token = s.keys.messageToken;
    const key = s.keys.encodingAesKey ? aesKeyOf(s.keys.encodingAesKey) : null;
    if (!url || !token || !key) return;
    const message = {
      ToUserName: `gh_${s.keys.appid.slice(2, 14)}`,
      FromUserName: 'o_system',
      CreateTime: Math.floor(s.now() / 1000),
      MsgType: 'event',
      Event: event,
      ...fields,
    };
    const record: PushRecord = { event, url, body: message, attempts: 0, status: 'failed' };
    records.push(record);
    if (controls.dropMessagePushes > 0) {
      controls.dropMessagePushes -= 1;
      record.status = 'dropped';
      return;
    }
    for (let attempt = 0; attempt < 4 && !stopped; attempt++) {
      if (attempt > 0) await o.later(Math.max(1, 5000 * s.controls.timeScale));
      const timestamp = String(Math.floor(s.now() / 1000));
      const nonce = String(crypto.randomInt(1e9));
      const encrypted = encryptMessage(key, JSON.stringify(message), s.keys.appid);
      const q = new URLSearchParams({
        signature: pushSignature(token, timestamp, nonce),
        timestamp,
        nonce,
        encrypt_type: 'aes',
        msg_signature: pushSignature(token, timestamp, nonce, encrypted),
      });
      record.attempts += 1;
      try {
        const res = await fetch(`${url}?${q}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ToUserName: message.ToUserName, Encrypt: encrypted }),
          signal: AbortSignal.timeout(5000),
        });
        const text = (await res.text()).trim();
        if (res.ok && (text === '' || text === 'success')) {
          record.status = 'delivered';
          return;
        }
      } catch {
        // retried
      }
    }
  }

  /** What every trade_manage_order_settlement push carries. */
  const settlementBase = (r: ShippingOrder) => ({
    transaction_id: r.transactionId,
    merchant_id: s.keys.mchid,
    sub_merchant_id: '',
    merchant_trade_no: r.outTradeNo,
    pay_time: r.payTime,
    shipped_time: Math.floor((r.shippedAt ?? s.now()) / 1000),
  });

  const received = (r: ShippingOrder, method: 1 | 2) => {
    if (r.state !== ORDER_STATE.SHIPPED) return;
    if (r.confirmTimer) clearTimeout(r.confirmTimer);
    r.confirmTimer = null;
    const confirmTime = Math.floor(s.now() / 1000);
    // Receipt confirmed, awaiting settlement, and settled at once in the sandbox (choice: WeChat's settlement delay is not documented).
    r.state = ORDER_STATE.COMPLETED;
    void push(r, 'trade_manage_order_settlement', {
      ...settlementBase(r),
      confirm_receive_method: method,
      confirm_receive_time: confirmTime,
      settlement_time: confirmTime,
    });
  };

  return {
    records,
    push,
    received,
    shipped(r) {
      r.state = ORDER_STATE.SHIPPED;
      r.shippedAt = s.now();
      const estimated = Math.floor(s.now() / 1000) + (r.logisticsType === 1 ? 10 : 2) * 86_400;
      void push(r, 'trade_manage_order_settlement', { ...settlementBase(r), estimated_settlement_time: estimated });
      if (r.confirmTimer) clearTimeout(r.confirmTimer);
      if (controls.autoConfirmSeconds > 0) {
        r.confirmTimer = setTimeout(() => received(r, 1), Math.max(1, controls.autoConfirmSeconds * 1000 * s.controls.timeScale));
        r.confirmTimer.unref();
      }
    },
    stop() {
      stopped = true;
      for (const r of o.orders()) if (r.confirmTimer) clearTimeout(r.confirmTimer);
    },
  };
}

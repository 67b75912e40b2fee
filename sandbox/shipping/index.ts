// The sandbox's api.weixin.qq.com beyond login (shipping.md §2–7): access tokens (tokens.ts), the order
// shipping-info API with its order-state machine (api.ts, records.ts), signed and encrypted message
// pushes to the merchant (pushes.ts), and under /sandbox a stand-in for the confirm-receipt component
// and the switches (controls.ts). It knows which orders were paid: it took the payments.
import type { Router } from 'express';
import type { SandboxState } from '../state';
import { shippingApiRoutes } from './api';
import { DEFAULT_SHIPPING_CONTROLS, type ShippingControls, type ShippingOrder } from './common';
import { shippingControlRoutes } from './controls';
import { createSandboxPushes, type PushRecord } from './pushes';
import { createShippingRecords } from './records';
import { createSandboxTokens } from './tokens';

export {
  CONFIRM_COMPONENT_APPID,
  DEFAULT_SHIPPING_CONTROLS,
  DELIVERY_LIST,
  type ShippingControls,
  type ShippingOrder,
  type ShippingPackage,
} from './common';
export type { PushRecord } from './pushes';

export interface ShippingSandbox {
  routes: Router;
  /** Loopback-only stand-ins and switches, mounted under /sandbox. */
  controlRoutes: Router;
  controls: ShippingControls;
  orders: Map<string, ShippingOrder>;
  pushes: PushRecord[];
  jumpPath(): string | null;
  /** Sends a message push about a paid order (to the server beside its notify URL), as WeChat sends one. */
  pushEvent(outTradeNo: string, event: string, fields: Record<string, unknown>): Promise<void>;
  /** The access-token check of WeChat's business calls, for other mini-program APIs the sandbox serves. */
  business: ReturnType<typeof createSandboxTokens>['business'];
  checkToken: ReturnType<typeof createSandboxTokens>['check'];
  /** Every token issued so far expires now (42001 on the next business call). */
  expireTokens(): void;
  tokensIssued(): number;
  stop(): void;
}

export function createShippingSandbox(s: SandboxState, o: { later: (ms: number) => Promise<void> }): ShippingSandbox {
  const controls: ShippingControls = { ...DEFAULT_SHIPPING_CONTROLS };
  const records = createShippingRecords(s);
  const tokens = createSandboxTokens(s);
  const pushes = createSandboxPushes(s, controls, { later: o.later, orders: () => records.orders.values() });
  let jumpPath: string | null = null;
  const parts = { tokens, records, pushes, controls };
  const api = shippingApiRoutes(s, {
    ...parts,
    setJumpPath: (path) => {
      jumpPath = path;
    },
  });
  api.use(tokens.routes);
  return {
    routes: api,
    controlRoutes: shippingControlRoutes(s, parts),
    controls,
    orders: records.orders,
    pushes: pushes.records,
    jumpPath: () => jumpPath,
    pushEvent: (outTradeNo, event, fields) => pushes.push({ outTradeNo } as ShippingOrder, event, fields),
    business: tokens.business,
    checkToken: tokens.check,
    expireTokens: () => void tokens.expire(),
    tokensIssued: () => tokens.issued(),
    stop: () => pushes.stop(),
  };
}

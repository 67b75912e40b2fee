// WeChat's confirm-receipt component answers through App.onShow: referrerInfo names the component's
// appId and carries {status, req_extradata}. The app notes it here; the orders page takes it when it
// shows and asks the server, which asks WeChat (the status alone is never trusted).
export const CONFIRM_COMPONENT_APPID = 'wx1183b055aeec94d1';

let last: { status: string; merchantTradeNo: string | null } | null = null;

interface ShowOptions {
  referrerInfo?: { appId?: string; extraData?: { status?: string; req_extradata?: { merchant_trade_no?: string } } };
}

export function noteAppShow(options: ShowOptions | undefined): void {
  const ref = options?.referrerInfo;
  if (ref?.appId !== CONFIRM_COMPONENT_APPID) return;
  last = { status: String(ref.extraData?.status ?? ''), merchantTradeNo: ref.extraData?.req_extradata?.merchant_trade_no ?? null };
}

/** The component's last answer, once. */
export function takeReceiptReturn(): { status: string; merchantTradeNo: string | null } | null {
  const r = last;
  last = null;
  return r;
}

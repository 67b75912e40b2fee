// WeChat's trade_manage_remind_shipping pushes (an order unshipped for more than 48 hours), kept for
// the operator's page: the newest 100 of this process, newest first.
export interface ShippingReminder {
  merchantTradeNo: string;
  transactionId: string;
  orderId: string | null;
  receivedAt: number;
}

export interface ReminderLog {
  add(r: ShippingReminder): void;
  recent(): ShippingReminder[];
}

export function createReminderLog(keep = 100): ReminderLog {
  const list: ShippingReminder[] = [];
  return {
    add(r) {
      list.unshift(r);
      if (list.length > keep) list.length = keep;
    },
    recent: () => [...list],
  };
}

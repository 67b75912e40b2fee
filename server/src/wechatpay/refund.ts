// WeChat Pay's refund object: one schema for the refund API's answer, its query and the decrypted
// refund notification (which names the status `refund_status`).
import { z } from 'zod';

export const refundSchema = z
  .object({
    mchid: z.string().optional(),
    refund_id: z.string().optional(),
    out_refund_no: z.string(),
    transaction_id: z.string().optional(),
    out_trade_no: z.string().optional(),
    /** SUCCESS, CLOSED, PROCESSING, ABNORMAL (API answers and queries). */
    status: z.string().optional(),
    /** The same, as refund notifications name it. */
    refund_status: z.string().optional(),
    success_time: z.string().optional(),
    create_time: z.string().optional(),
    user_received_account: z.string().optional(),
    amount: z.object({
      total: z.number().int(),
      refund: z.number().int(),
      payer_total: z.number().int().optional(),
      payer_refund: z.number().int().optional(),
      currency: z.string().optional(),
    }),
  })
  .refine((r) => r.status !== undefined || r.refund_status !== undefined, 'a refund needs a status');

export type WechatRefund = z.infer<typeof refundSchema>;

export const refundStatusOf = (r: WechatRefund): string => (r.status ?? r.refund_status)!;

/** The body of POST /v3/refund/domestic/refunds, in WeChat's field names. */
export interface RefundOrder {
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  amount: { refund: number; total: number; currency: 'CNY' };
}

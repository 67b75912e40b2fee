// What the operator reads for each state, in Chinese.
import type { OrderStatus } from '../../domain/order';
import type { LogisticsType, ShipmentStatus, UploadState } from '../../domain/shipment';

export const ORDER_STATUS: Record<OrderStatus, { label: string; css: string }> = {
  PENDING: { label: '待支付', css: 'pending' },
  PAID: { label: '已支付', css: 'ok' },
  CLOSED: { label: '已关闭', css: 'muted' },
};
export const LOGISTICS: Record<LogisticsType, string> = {
  express: '快递',
  'same-city': '同城配送',
  virtual: '虚拟商品',
  pickup: '用户自提',
};
export const SHIP_STATUS: Record<ShipmentStatus, string> = { SHIPPED: '已发货', RECEIVED: '已收货', COMPLETED: '已完成' };
export const UPLOAD: Record<UploadState, string> = { PENDING: '等待上传（自动重试）', ACCEPTED: '微信已接收', REFUSED: '微信拒绝' };

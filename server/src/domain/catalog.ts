import type { Fen } from './money';

export interface Product {
  sku: string;
  name: string;
  description: string;
  price: Fen;
  currency: 'CNY';
  /** Upper bound on one order line, so a cart cannot overflow or abuse stock. */
  maxQuantity: number;
}

/** The seeded catalog. Prices are integer fen; 1990 is 19.90 yuan. */
export const SEED_PRODUCTS: readonly Product[] = [
  {
    sku: 'COFFEE-BEANS-250G',
    name: '云南小粒咖啡豆 250g',
    description: '中度烘焙，坚果与焦糖风味',
    price: 6800,
    currency: 'CNY',
    maxQuantity: 20,
  },
  { sku: 'DRIP-BAGS-10', name: '挂耳咖啡 10 包', description: '办公室一杯好咖啡', price: 3990, currency: 'CNY', maxQuantity: 20 },
  { sku: 'MUG-CERAMIC', name: '陶瓷马克杯', description: '350ml，可进洗碗机', price: 4500, currency: 'CNY', maxQuantity: 10 },
  { sku: 'STICKER-PACK', name: '贴纸一套', description: '随单附赠的小惊喜', price: 1, currency: 'CNY', maxQuantity: 99 },
];

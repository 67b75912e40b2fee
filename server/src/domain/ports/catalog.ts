// The products a shop sells, with their prices in fen.
import type { Product } from '../catalog';

export interface CatalogStore {
  /** In the seed's order. */
  listProducts(): Promise<Product[]>;
  /** Inserts the seed catalog where missing; existing products keep their stored values. */
  seedProducts(products: readonly Product[]): Promise<void>;
}

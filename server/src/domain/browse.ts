// Browsing the shop: the catalog as the store holds it, prices in integer fen.
import type { Product } from './catalog';
import type { CatalogStore } from './ports/store';

export function listProducts(store: CatalogStore): Promise<Product[]> {
  return store.listProducts();
}

// The shop's product pictures, shipped with the client (small SVGs: about 2 KB for the four). A product
// the client has no picture for gets a neutral placeholder.
import beans from '../assets/products/coffee-beans.svg';
import drip from '../assets/products/drip-bags.svg';
import mug from '../assets/products/mug.svg';
import placeholder from '../assets/products/placeholder.svg';
import stickers from '../assets/products/stickers.svg';

const IMAGES: Record<string, string> = { 'COFFEE-BEANS-250G': beans, 'DRIP-BAGS-10': drip, 'MUG-CERAMIC': mug, 'STICKER-PACK': stickers };

export const productImage = (sku: string): string => IMAGES[sku] ?? placeholder;

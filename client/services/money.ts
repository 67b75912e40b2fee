// Money is integer fen everywhere; yuan appear only here, for display.

/** 1990 → "¥19.90", 12345678 → "¥123,456.78"; never floating-point arithmetic. */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`not an integer number of fen: ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}¥${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

/** Display-only estimate of a cart; the server prices the order itself. */
export function cartTotal(lines: { price: number; quantity: number }[]): number {
  return lines.reduce((sum, l) => sum + l.price * l.quantity, 0);
}

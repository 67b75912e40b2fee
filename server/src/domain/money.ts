// Money is an integer number of fen from the database to the wire.

export type Fen = number;

export function isFen(value: unknown): value is Fen {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Sum of unit price × quantity, refusing anything that would leave the safe-integer range. */
export function lineTotal(unitPrice: Fen, quantity: number): Fen {
  const total = unitPrice * quantity;
  if (!Number.isSafeInteger(total)) throw new RangeError('amount out of range');
  return total;
}

/** For logs and the sandbox's payment sheet: 1990 → "19.90". */
export function formatYuan(fen: Fen): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

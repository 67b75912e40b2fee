// Money is an integer number of fen from the database to the wire; yuan appear only in the
// client's display code.

export type Fen = number;

/** Unit price × quantity, refusing anything that would leave the safe-integer range. */
export function lineTotal(unitPrice: Fen, quantity: number): Fen {
  const total = unitPrice * quantity;
  if (!Number.isSafeInteger(total)) throw new RangeError('amount out of range');
  return total;
}

// Driver errors become the domain's: DuplicateKeyError (by the index E11000 names), StoreUnavailableError
// (a retry may succeed), or themselves.
import { DuplicateKeyError, StoreUnavailableError } from '../../domain/errors';
import { UNIQUE_INDEXES } from './models';

/** Server error codes that mean "not now": failover, shutdown, unreachable hosts, write concern not met. */
const UNAVAILABLE_CODES = new Set([6, 7, 64, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
const UNAVAILABLE_NAMES =
  /^(MongoServerSelectionError|MongooseServerSelectionError|MongoNetworkError|MongoNetworkTimeoutError|MongoNotConnectedError|MongoTopologyClosedError|MongoPoolClosedError|MongoServerClosedError|MongoWriteConcernError|MongoTimeoutError|MongoWaitQueueTimeoutError)$/;

export function mapError(err: unknown): unknown {
  const e = err as {
    code?: number;
    name?: string;
    message?: string;
    errorLabels?: string[];
    writeConcernError?: unknown;
    errorLabelSet?: Set<string>;
  };
  if (e.code === 11000) {
    const m = /collection: [^.\s]+\.(\S+) index: (\S+)/.exec(e.message ?? '');
    return new DuplicateKeyError((m && UNIQUE_INDEXES[`${m[1]}.${m[2]}`]) ?? 'other');
  }
  const labels = [...(e.errorLabels ?? []), ...(e.errorLabelSet ?? [])];
  if (
    (e.name && UNAVAILABLE_NAMES.test(e.name)) ||
    (typeof e.code === 'number' && UNAVAILABLE_CODES.has(e.code)) ||
    labels.some((l) => l === 'RetryableWriteError' || l === 'TransientTransactionError' || l === 'ResetPool') ||
    e.writeConcernError
  ) {
    return new StoreUnavailableError(err);
  }
  return err;
}

export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err);
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * What every log line written while serving one request carries: our request id (`reqId`, echoed to
 * the caller as `Request-ID`) and, on the notify route, WeChat's own Request-ID.
 */
export const logContext = new AsyncLocalStorage<Record<string, string>>();

/** Belt and braces: code never logs these, and if it did, pino replaces them. */
export const REDACT_PATHS = [
  'token',
  'sessionKey',
  'session_key',
  'secret',
  'appSecret',
  'apiV3Key',
  'privateKey',
  'paySign',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.sessionKey',
  '*.session_key',
  '*.secret',
  '*.appSecret',
  '*.apiV3Key',
  '*.privateKey',
  '*.paySign',
  '*.authorization',
];

let droppedLines = 0;
/** Log lines dropped since start because their reader had stopped reading (see `logLines`). */
export const droppedLogLines = () => droppedLines;

/** How much of the log may wait in memory for a reader that has stopped reading (64 MiB). */
export const LOG_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * Where JSON lines go: written asynchronously (sonic-boom), so a log reader that stalls — a full pipe,
 * a slow collector — never blocks the event loop and the shop keeps answering. Lines wait in memory
 * for it up to `maxBytes`; past that they are dropped and counted (`log_lines_dropped_total`) rather
 * than let the process run out of memory. What waits is written out when the process exits normally.
 */
export function logLines(dest: number | string = 1, maxBytes = LOG_BUFFER_BYTES): DestinationStream {
  const stream = pino.destination({ dest, sync: false, maxLength: maxBytes });
  stream.on('drop', () => {
    droppedLines += 1;
  });
  return stream;
}

/**
 * JSON lines, as a log pipeline wants them (to stdout through `logLines` unless given a destination);
 * `pretty` (a person at a terminal) renders them readable through pino-pretty on a worker thread.
 * Redaction happens before either.
 */
export function createLogger(level: string, destination?: DestinationStream, opts: { pretty?: boolean } = {}): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    mixin: () => logContext.getStore() ?? {},
  };
  if (opts.pretty && !destination) {
    return pino(
      options,
      pino.transport({
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true },
      }),
    );
  }
  return pino(options, destination ?? logLines());
}

/** Pretty in a terminal, JSON when piped or in production (`LOG_FORMAT=json|pretty` decides otherwise). */
export function wantsPrettyLogs(env: NodeJS.ProcessEnv, isTTY = Boolean(process.stdout.isTTY)): boolean {
  if (env.LOG_FORMAT === 'json') return false;
  if (env.LOG_FORMAT === 'pretty') return true;
  return isTTY && env.NODE_ENV !== 'production';
}

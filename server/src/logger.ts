import pino, { type DestinationStream, type Logger } from 'pino';

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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined }, destination);
}

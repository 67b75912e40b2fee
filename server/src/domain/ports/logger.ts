// What the domain writes to the log: a message with structured fields. The server hands it a pino
// logger; tests hand it whatever they like. Fields hold ids, states and codes, never secrets.
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

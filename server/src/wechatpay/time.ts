// WeChat's times are Beijing time (UTC+8) whatever the server's zone. Written once, used by the
// protocol library and the sandbox alike.
const BEIJING_OFFSET_MS = 8 * 3600_000;

/** RFC 3339 with +08:00, to the second: the v3 format of time_expire, success_time and create_time. */
export function beijingTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000 + BEIJING_OFFSET_MS).toISOString().replace(/\.\d{3}Z$/, '+08:00');
}

/** RFC 3339 with +08:00, to the millisecond: upload_time of WeChat's shipping-info API. */
export function beijingTimeMillis(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().replace(/Z$/, '+08:00');
}

/** yyyyMMddHHmmss in Beijing time: the v2 format of time_start, time_expire and time_end. */
export function beijingCompact(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().replace(/\D/g, '').slice(0, 14);
}

/** WeChat's documented tolerance between its clock and ours, for responses and notifications alike. */
export const MAX_SKEW_S = 300;

export const unixSeconds = (ms: number): string => Math.floor(ms / 1000).toString();

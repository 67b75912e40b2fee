// Times for the shopper: the phone's local time, to the minute; countdowns in minutes and seconds.

const pad = (n: number) => String(n).padStart(2, '0');

/** 2026-11-30 16:05 */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** 29:59, or 1:05:00 past an hour; null once the time is up. */
export function countdown(untilIso: string, now: number): string | null {
  const left = Math.floor((Date.parse(untilIso) - now) / 1000);
  if (left <= 0) return null;
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

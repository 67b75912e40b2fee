// The bench's load generators and what they measure: autocannon for closed-loop load, a paced
// open-loop sender for latency at a given rate, and each process's CPU time from /proc.
import fs from 'node:fs';
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface Load {
  /** Requests answered per second, over the time the answers took. */
  rate: number;
  /** Requests made. */
  sent: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Cores each process used during the load (Linux: /proc), this one being the load generator. */
  cores: Record<string, number>;
}

/** Processes whose CPU time each load reports, by name. */
export const watched = new Map<string, number>();
/** CPU seconds of a process and its children (a cluster's workers), from /proc; null elsewhere. With
 *  `thread`, of that thread only (the process's id: its main thread, the event loop). */
const cpuSeconds = (pid: number, thread?: number): number | null => {
  try {
    const fields = fs
      .readFileSync(thread ? `/proc/${pid}/task/${thread}/stat` : `/proc/${pid}/stat`, 'utf8')
      .split(') ')[1]!
      .split(' ');
    if (thread) return (Number(fields[11]) + Number(fields[12])) / 100;
    let seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    for (const child of children ? children.split(' ') : []) seconds += cpuSeconds(Number(child)) ?? 0;
    return seconds;
  } catch {
    return null;
  }
};

export async function load(o: autocannon.Options): Promise<Load> {
  const before = new Map([...watched].map(([name, pid]) => [name, cpuSeconds(pid)]));
  const serverPid = watched.get('server');
  const loopBefore = serverPid ? cpuSeconds(serverPid, serverPid) : null;
  const self = process.cpuUsage();
  const t0 = performance.now();
  // A run of a fixed `amount` ends on the next whole second after its last answer, and autocannon's
  // average is over whole-second buckets: rates and cores are taken over the time the answers took.
  let lastAnswer = t0;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const run = autocannon({ ...o }, (err, result) => (err ? reject(err) : resolve(result)));
    run.on('response', () => {
      lastAnswer = performance.now();
    });
  });
  const seconds = Math.max(1, lastAnswer - t0) / 1000; // no answer at all: a rate of 0, not NaN
  const cores: Record<string, number> = {};
  for (const [name, pid] of watched) {
    const a = before.get(name);
    const b = cpuSeconds(pid);
    if (a != null && b != null) cores[name] = Number(((b - a) / seconds).toFixed(2));
  }
  const loopAfter = serverPid ? cpuSeconds(serverPid, serverPid) : null;
  if (loopBefore != null && loopAfter != null) cores['server event loop'] = Number(((loopAfter - loopBefore) / seconds).toFixed(2));
  const used = process.cpuUsage(self);
  cores.load = Number(((used.user + used.system) / 1e6 / seconds).toFixed(2));
  return {
    rate: r.requests.total / seconds,
    sent: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    cores,
  };
}

/**
 * Open-loop load at a steady rate: request i is due at i/rate seconds, and its latency counts from then
 * (a late send is the server's delay too). autocannon's rate limit sends each connection's share as a
 * burst at the start of every second, so its p99 "at half the rate" measures the burst, not the rate.
 */
export async function paced(
  origin: string,
  o: {
    rate: number;
    count: number;
    connections: number;
    request: (i: number) => { path: string; body: string; headers: Record<string, string> };
  },
): Promise<Load> {
  const pool = new Pool(origin, { connections: o.connections });
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < o.count; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const r = o.request(i);
    inFlight.push(
      pool
        .request({ method: 'POST', path: r.path, headers: r.headers, body: r.body })
        .then(async (res) => {
          await res.body.dump();
          if (res.statusCode < 200 || res.statusCode > 299) non2xx += 1;
          latencies.push(performance.now() - due);
        })
        .catch(() => {
          errors += 1;
        }),
    );
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Number((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1));
  return { rate: o.count / seconds, sent: o.count, p50: at(0.5), p99: at(0.99), non2xx, errors, cores: {} };
}

// Logs go to stdout, to whatever collects them. A collector that stalls must not stall the shop.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, droppedLogLines, logLines } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { tempDir } from './helpers';
import { httpJson } from './system-process';

describe('request logs', () => {
  it('keep the server answering while their reader has stopped reading, and arrive once it reads again', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serve-for-tests.ts')], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json', DATA_DIR: tempDir('logs-') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      const onData = (d: Buffer) => {
        out += d;
      };
      child.stdout.on('data', onData);
      await expect.poll(() => /READY (\{.*\})/.test(out), { timeout: 30_000 }).toBe(true);
      const api = JSON.parse(/READY (\{.*\})/.exec(out)![1]!).api as string;
      // The reader stalls: the pipe (64 KiB) and this side's buffer fill, and a blocking write would wait.
      child.stdout.off('data', onData);
      child.stdout.pause();
      const N = 3000; // one request line each, ~200 bytes: several times what the pipe holds
      const answered = (async () => {
        for (let i = 0; i < N; i += 50) {
          const batch = await Promise.all(Array.from({ length: Math.min(50, N - i) }, () => httpJson('GET', `${api}/api/products`)));
          expect(batch.every((r) => r.status === 200)).toBe(true);
        }
        return 'answered';
      })();
      const stalled = new Promise((r) => setTimeout(() => r('stalled'), 20_000));
      expect(await Promise.race([answered, stalled])).toBe('answered');

      // Reading again: every line is there.
      child.stdout.on('data', onData);
      child.stdout.resume();
      const count = () => out.split('\n').filter((l) => l.includes('"path":"/api/products"')).length;
      await expect.poll(count, { timeout: 10_000 }).toBe(N);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('drop what a stalled reader leaves past their memory bound, and count it in the metrics', async () => {
    const file = path.join(tempDir('logs-'), 'lines.log');
    const before = droppedLogLines();
    const lines = logLines(file, 4096);
    const logger = createLogger('info', lines);
    // A thousand lines in one turn of the event loop: nothing drains meanwhile, as with a stalled reader.
    for (let i = 0; i < 1000; i++) logger.info({ i }, 'a line of about sixty bytes');
    const dropped = droppedLogLines() - before;
    expect(dropped).toBeGreaterThan(900);
    await new Promise<void>((resolve) => {
      (lines as unknown as NodeJS.WritableStream).end();
      (lines as unknown as NodeJS.EventEmitter).once('close', () => resolve());
    });
    const written = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(written).toHaveLength(1000 - dropped); // what fitted was written, in order
    expect(JSON.parse(written[0]!)).toMatchObject({ i: 0 });
    const metrics = createMetrics();
    expect(await metrics.registry.getSingleMetricAsString('log_lines_dropped_total')).toContain(
      `log_lines_dropped_total ${droppedLogLines()}`,
    );
  });
});

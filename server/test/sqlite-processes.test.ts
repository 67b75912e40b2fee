// Several processes on one SQLite file, as with cluster workers or `npm run reconcile` beside the
// server: while another process holds the write lock, the server's writes wait and its event loop
// goes on answering.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers';
import { startSystemProcess, type SystemProcess } from './system-process';

describe('SQLite shared with another process', () => {
  let sys: SystemProcess;
  afterAll(() => sys?.stop());

  it("waits for another process's write lock without holding up other requests, then writes", async () => {
    sys = await startSystemProcess();
    // Another process takes the write lock on the server's database for two seconds.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]); db.prepare('BEGIN IMMEDIATE').run(); console.log('held'); setTimeout(() => { db.prepare('COMMIT').run(); console.log('released'); }, 2000);`,
        path.join(sys.dataDir, 'checkout.sqlite'),
      ],
      { cwd: path.resolve(__dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let holderOut = '';
    const events: string[] = [];
    holder.stdout.on('data', (d) => {
      holderOut += d;
      if (String(d).includes('released')) events.push('released');
    });
    await expect.poll(() => holderOut, { timeout: 10_000 }).toContain('held');

    const login = sys.login('shared-file').then(
      () => events.push('logged in'), // it wrote a user and a session
      (err: Error) => events.push(err.message),
    );
    await new Promise((r) => setTimeout(r, 300)); // the login's write is waiting for the lock by now
    const health = await sys.http('GET', '/api/health');
    events.push(`health ${health.status}`);
    await login;
    // Health answered while the lock was held (a server asleep in SQLite's busy handler could not have),
    // and the login written once it was released.
    expect(events).toEqual(['health 200', 'released', 'logged in']);
  }, 60_000);

  it('lets several processes open one new database file at once (cluster workers starting together)', async () => {
    const root = path.resolve(__dirname, '../..');
    // Each process loads the adapter, then waits for one common moment to open the file.
    const opener = `const { createSqliteStore } = require('./server/src/storage/sqlite'); while (Date.now() < Number(process.argv[2])); createSqliteStore({ filename: process.argv[1] }).close().then(() => console.log('opened'))`;
    for (let round = 0; round < 3; round++) {
      const file = path.join(tempDir('opening-'), 'checkout.sqlite');
      const at = String(Date.now() + 4000);
      const results = await Promise.all(
        Array.from({ length: 6 }, () => {
          const child = spawn(process.execPath, ['--import', 'tsx', '-e', opener, file, at], {
            cwd: root,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (out += d));
          return new Promise<string>((resolve) =>
            child.on('exit', (code) =>
              resolve(code === 0 ? out.trim() : `exit ${code}: ${out.split('\n').find((l) => /Error/.test(l)) ?? out}`),
            ),
          );
        }),
      );
      expect(results).toEqual(Array(6).fill('opened'));
    }
  }, 120_000);
});

// Finds a MongoDB for the tests: MONGODB_URI if set (it must be a replica set: the store needs
// transactions), else a `mongod` binary on PATH started as a single-node replica set on a temporary
// folder. Decides in well under a second when there is none and never hangs; null means "skip".
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import mongoose from 'mongoose';
import { freePort, tempDir } from './helpers';

export interface MongoForTests {
  uri: string;
  stop(): Promise<void>;
}

export async function findMongo(): Promise<{ mongo: MongoForTests | null; why: string }> {
  if (process.env.MONGODB_URI) return { mongo: { uri: process.env.MONGODB_URI, stop: async () => undefined }, why: 'MONGODB_URI' };
  const which = spawnSync('sh', ['-c', 'command -v mongod'], { encoding: 'utf8', timeout: 500 });
  const bin = which.stdout?.trim();
  if (!bin) return { mongo: null, why: 'no MONGODB_URI and no mongod on PATH' };
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['--dbpath', tempDir('mongod-'), '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'], {
    stdio: 'ignore',
  });
  const uri = `mongodb://127.0.0.1:${port}/checkout_test`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.end();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill();
      return { mongo: null, why: `mongod at ${bin} did not start` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // One member, this one: a replica set, so transactions work.
  const client = new mongoose.mongo.MongoClient(`mongodb://127.0.0.1:${port}/?directConnection=true`);
  try {
    await client.db('admin').command({ replSetInitiate: { _id: 'rs0', members: [{ _id: 0, host: `127.0.0.1:${port}` }] } });
    for (const until = Date.now() + 15_000; !(await client.db('admin').command({ hello: 1 })).isWritablePrimary; ) {
      if (Date.now() > until) throw new Error('no primary within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    child.kill();
    return { mongo: null, why: `mongod at ${bin} did not become a replica set primary: ${(err as Error).message}` };
  } finally {
    await client.close();
  }
  return {
    mongo: {
      uri,
      stop: async () => {
        child.kill();
      },
    },
    why: `mongod at ${bin}`,
  };
}

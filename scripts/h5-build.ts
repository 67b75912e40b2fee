// The H5 build of the client: `npm start` serves it at /, building it first when it is missing
// or older than its sources. The build is Taro's own (`taro build --type h5`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SOURCES = ['client', 'config', 'babel.config.js', 'package.json'];

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Why the build in `outDir` cannot be served as it is, or null when it is current. */
export function staleReason(root: string, outDir: string): string | null {
  const index = path.join(outDir, 'index.html');
  if (!fs.existsSync(index)) return 'no build yet';
  const built = fs.statSync(index).mtimeMs;
  const changed = SOURCES.find((s) => newestMtime(path.join(root, s)) > built);
  return changed ? `${changed} changed since the last build` : null;
}

/** Runs `taro build --type <type>`; resolves when it succeeds, rejects with its output otherwise. */
export function taroBuild(root: string, type: 'h5' | 'weapp', env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const bin = path.join(root, 'node_modules', '.bin', 'taro');
    const child = spawn(bin, ['build', '--type', type], {
      cwd: root,
      env: { ...process.env, CI: 'true', NODE_ENV: 'production', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && !/Failed to compile|ERROR in/.test(output)) resolve();
      else reject(new Error(`taro build --type ${type} failed (exit ${code}):\n${output.slice(-4000)}`));
    });
  });
}

// Starts the sandbox on a port and hands its credentials over (sandbox.env + PEM files), for
// `npm run sandbox`, the `npm start` launcher and the tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox, type Sandbox, type SandboxOptions } from './app';
import { ensureSandboxKeys, writeCredentials } from './keys';

export interface RunningSandbox {
  url: string;
  sandbox: Sandbox;
  /** The variables written to DATA_DIR/sandbox/sandbox.env. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface StartSandboxOptions extends Omit<SandboxOptions, 'keys' | 'allowHttpNotifyUrl'> {
  dataDir: string;
  host: string;
  port: number;
  /** Where the API server listens (or will): the notify URL points there. */
  apiUrl: string;
}

const urlOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

export async function startSandbox(o: StartSandboxOptions): Promise<RunningSandbox> {
  const keys = ensureSandboxKeys(o.dataDir);
  const sandbox = createSandbox({ ...o, keys, allowHttpNotifyUrl: true });
  const server = http.createServer(sandbox.app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = urlOf(o.host, (server.address() as AddressInfo).port);
  const env = writeCredentials(o.dataDir, keys, { sandboxUrl: url, apiUrl: o.apiUrl, certificatePem: o.certificate?.pem });
  return {
    url,
    sandbox,
    env,
    close: () =>
      new Promise<void>((resolve) => {
        sandbox.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

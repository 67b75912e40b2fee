// Starts the sandbox on a port and hands its credentials over (sandbox.env + PEM files), for
// `npm run sandbox`, the `npm start` launcher and the tests.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSandbox, type Sandbox, type SandboxOptions } from './app';
import { ensurePlatformCertificate, ensureSandboxKeysWithV2, type SandboxSigning, writeCredentials } from './keys';

export interface RunningSandbox {
  url: string;
  /** The v2 refund endpoint (https, mutual TLS). */
  tlsUrl: string;
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
  /** The v2 refund endpoint's port (0: a free one). */
  tlsPort?: number;
  /** How WeChat signs (SANDBOX_SIGNING, default public-key). */
  signing?: SandboxSigning;
}

const urlOf = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

export async function startSandbox(o: StartSandboxOptions): Promise<RunningSandbox> {
  const keys = await ensureSandboxKeysWithV2(o.dataDir);
  const signing = o.signing ?? 'public-key';
  // Certificate and switch modes: a platform certificate from the start, which WeChat lists and signs with.
  const certificate =
    o.certificate ?? (signing === 'public-key' ? undefined : await ensurePlatformCertificate(o.dataDir, keys.mchid, (o.now ?? Date.now)()));
  const controls = signing === 'public-key' ? o.controls : { signWith: signing, ...o.controls };
  const sandbox = createSandbox({ ...o, controls, certificate, keys, allowHttpNotifyUrl: true });
  const server = http.createServer(sandbox.app);
  // API v2 refunds: mutual TLS, a client certificate from the sandbox's CA demanded at the handshake.
  const tlsServer = https.createServer(
    { key: keys.tls.serverKeyPem, cert: keys.tls.serverCertPem, ca: keys.tls.caCertPem, requestCert: true, rejectUnauthorized: true },
    sandbox.tlsApp,
  );
  const listen = (s: http.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, o.host, () => {
        s.off('error', reject);
        resolve((s.address() as AddressInfo).port);
      });
    });
  const url = urlOf(o.host, await listen(server, o.port));
  const tlsUrl = urlOf(o.host, await listen(tlsServer, o.tlsPort ?? 0)).replace(/^http:/, 'https:');
  const env = writeCredentials(o.dataDir, keys, { sandboxUrl: url, apiUrl: o.apiUrl, certificatePem: o.certificate?.pem, tlsUrl, signing });
  const closeOne = (s: http.Server) =>
    new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  return {
    url,
    tlsUrl,
    sandbox,
    env,
    async close() {
      sandbox.stop();
      await Promise.all([closeOne(server), closeOne(tlsServer)]);
    },
  };
}

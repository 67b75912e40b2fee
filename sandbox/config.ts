// Every variable the sandbox reads, through one schema (README lists them). The same safety rule
// as the server's: the sandbox fakes payment, so it stays on loopback and out of production
// unless UNSAFE_ALLOW_SANDBOX says otherwise.
import { z } from 'zod';
import { ConfigError, sandboxSafetyProblem, UNSAFE_SANDBOX_WARNING } from '../server/src/config';

const SCHEMA = z.object({
  NODE_ENV: z.string().optional(),
  HOST: z.string().default('127.0.0.1'),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  /** API v2's mutual-TLS refund endpoint; by default the port after SANDBOX_PORT (a free one when that is 0). */
  SANDBOX_TLS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** The API server's port, for the notify URL written into sandbox.env. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATA_DIR: z.string().default('./data'),
  /** Multiplies WeChat's notification retry schedule: 0.01 turns 15 s into 150 ms. */
  SANDBOX_TIME_SCALE: z.coerce.number().positive().max(1000).default(1),
  /** How WeChat Pay signs: its public key (the default), platform certificates (the server must download them), or
   *  the switch week between the two. */
  SANDBOX_SIGNING: z.enum(['public-key', 'certificate', 'switch']).default('public-key'),
  UNSAFE_ALLOW_SANDBOX: z
    .string()
    .trim()
    .toLowerCase()
    .transform((s) => ['1', 'true', 'yes'].includes(s))
    .optional(),
});

export interface SandboxConfig {
  host: string;
  port: number;
  tlsPort: number;
  apiPort: number;
  dataDir: string;
  timeScale: number;
  signing: 'public-key' | 'certificate' | 'switch';
  warnings: string[];
}

export function loadSandboxConfig(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const parsed = SCHEMA.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const unsafe = sandboxSafetyProblem(e);
  if (unsafe) throw new ConfigError([unsafe]);
  return {
    host: e.HOST,
    port: e.SANDBOX_PORT,
    tlsPort: e.SANDBOX_TLS_PORT ?? (e.SANDBOX_PORT === 0 ? 0 : e.SANDBOX_PORT + 1),
    apiPort: e.PORT,
    dataDir: e.DATA_DIR,
    timeScale: e.SANDBOX_TIME_SCALE,
    signing: e.SANDBOX_SIGNING,
    warnings: e.UNSAFE_ALLOW_SANDBOX ? [UNSAFE_SANDBOX_WARNING] : [],
  };
}

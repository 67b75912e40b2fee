import path from 'node:path';
import { defineConfig } from 'vitest/config';

const here = (p: string) => path.resolve(import.meta.dirname, p);

/** The fast tier (`npm run test:fast`): use cases over the in-memory store and fakes, the store contract
 *  on the in-memory store and on the MongoDB adapter's queries run by mingo, crypto vectors, config and
 *  the architecture. No HTTP server, sandbox, browser or fresh RSA key. */
const FAST = [
  'server/test/use-cases/**/*.test.ts',
  'server/test/store.memory.test.ts',
  'server/test/store.mingo.test.ts',
  'server/test/architecture.test.ts',
  'server/test/crypto.test.ts',
  'server/test/config.test.ts',
  'server/test/bill-format.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'fast',
          include: FAST,
          environment: 'node',
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'server',
          include: ['server/test/**/*.test.ts', 'sandbox/**/*.test.ts'],
          exclude: FAST,
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        resolve: {
          alias: {
            '@tarojs/taro': here('client/test/taro-shim.ts'),
            '@tarojs/components': here('client/test/components-shim.tsx'),
          },
        },
        test: {
          name: 'client',
          include: ['client/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});

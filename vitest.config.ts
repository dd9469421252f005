import { defineConfig } from 'vitest/config';

// Two projects: `unit` (codecs, fake peers on 127.0.0.1, diagnosis tables, scan logic) needs nothing but Node;
// `lab` drives real xrdp / FreeRDP servers in network namespaces that test/lab/global-setup.ts brings up and tears
// down (root and the Debian packages installed by .ci/run are required; without them the lab project fails loudly).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/lab/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          globalSetup: ['test/lab/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

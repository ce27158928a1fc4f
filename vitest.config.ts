import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `import ... from 'bot4'` in strategy files outside the repo (tests write them to temp folders): the engine
  // under test, as the CLI maps it with a Node resolve hook (src/strategy/bot4-resolution.ts).
  resolve: {
    alias: [{ find: /^bot4$/, replacement: fileURLToPath(new URL('./src/api.ts', import.meta.url)) }],
  },
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'deploy/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

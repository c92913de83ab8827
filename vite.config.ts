import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The dashboard: a Preact page built into `dist/web`, served by `seatmeter serve` under `/dashboard/`. */
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/dashboard/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});

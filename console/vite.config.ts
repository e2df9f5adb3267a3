import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built by scripts/build.js (run from this folder) into dist/console, which the server serves at `/`.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    target: 'es2022',
    // The first page's budget is 300 KB of gzipped JavaScript; warn well before a chunk nears it.
    chunkSizeWarningLimit: 900,
    reportCompressedSize: false,
  },
  server: {
    // `npx vite` in console/ for development: the API of a server started with `npm start`.
    proxy: { '/rest': 'http://127.0.0.1:8080', '/plugins': 'http://127.0.0.1:8080' },
  },
});

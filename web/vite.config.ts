import { defineConfig } from 'vite';

// The dev server proxies the API to a running `linkage` (make run), so the app is
// developed against the real server: LINKAGE_URL=http://127.0.0.1:8080 npm run dev
const target = process.env.LINKAGE_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/graphql': { target, ws: true, changeOrigin: false },
      '/export': { target },
      '/healthz': { target },
    },
  },
});

import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a local `crimecast serve` (default port 8080);
// `npm run build` writes web/dist, which `crimecast serve --static web/dist` serves.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: { '/api': { target: process.env.CRIMECAST_API ?? 'http://127.0.0.1:8080', changeOrigin: true } },
  },
});

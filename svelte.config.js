import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// A static SPA: the relay serves build/ and falls back to index.html for every route.
		adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: false }),
		serviceWorker: { register: false }
	},
	vitePlugin: {
		// Runes for our own files only; forcing them globally reaches into node_modules.
		dynamicCompileOptions: ({ filename }) =>
			filename.includes('node_modules') ? undefined : { runes: true }
	}
};

export default config;

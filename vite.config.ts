import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [tailwindcss(), sveltekit()],
	server: {
		// `npm run dev` talks to a relay started separately on RELAY_PORT (default 8787).
		proxy: {
			'/api': `http://127.0.0.1:${process.env.RELAY_PORT ?? 8787}`,
			'/couch': `http://127.0.0.1:${process.env.RELAY_PORT ?? 8787}`,
			'/open311': `http://127.0.0.1:${process.env.RELAY_PORT ?? 8787}`,
			'/sync': { target: `ws://127.0.0.1:${process.env.RELAY_PORT ?? 8787}`, ws: true },
			'/mux': { target: `ws://127.0.0.1:${process.env.RELAY_PORT ?? 8787}`, ws: true }
		}
	},
	test: {
		include: ['tests/unit/**/*.test.ts', 'tests/relay/**/*.test.ts'],
		environment: 'node',
		testTimeout: 30_000,
		hookTimeout: 60_000,
		globalSetup: ['tests/relay/global-setup.ts']
	}
});

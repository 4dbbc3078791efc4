/**
 * Relay entry point: `node dist/relay/main.js [--no-demo]`. Configuration comes from the
 * environment (docs/operations.md). SIGTERM or SIGINT stops it cleanly (R19).
 */
import { readConfig } from './config';
import { errorText, log } from './log';
import { startRelay, type Relay } from './server';

let relay: Relay | undefined;

async function shutdown(signal: string, exitCode = 0): Promise<never> {
	log.info('signal received', { signal });
	try {
		await relay?.stop();
	} catch (e) {
		log.error('shutdown failed', { error: errorText(e) });
		exitCode = exitCode || 1;
	}
	process.exit(exitCode);
}

let signalled = false;
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
	process.on(signal, () => {
		if (signalled) return;
		signalled = true;
		void shutdown(signal);
	});
}
process.on('uncaughtException', (e) => {
	log.error('uncaught exception', { error: errorText(e), stack: e.stack?.split('\n').slice(1, 4).join(' | ') });
	if (!signalled) {
		signalled = true;
		void shutdown('uncaughtException', 1);
	}
});

try {
	relay = await startRelay(readConfig());
} catch (e) {
	log.error('relay failed to start', { error: errorText(e) });
	process.exit(1);
}

/**
 * BENCH=1 only: `GET /bench/heap` answers the relay's heap after full garbage collections
 * (process.memoryUsage), so the bench can tell what rooms and connections keep from what RSS
 * keeps of memory already freed (bench/idle-rss.mjs, docs/benchmarks.md). Never mounted otherwise.
 */
import type { ServerResponse } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | undefined;

export function sendBenchHeap(res: ServerResponse): void {
	if (!gc) {
		v8.setFlagsFromString('--expose-gc');
		gc = vm.runInNewContext('gc') as () => void;
	}
	for (let i = 0; i < 3; i++) gc();
	const m = process.memoryUsage();
	res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
	res.end(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }));
}

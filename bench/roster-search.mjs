#!/usr/bin/env node
/**
 * Roster benchmarks (issue 4), in Node on this machine: the search index over 5,000 people
 * (build once, then one query per keystroke), and the roll-up of counts after an edit.
 * The TypeScript model is bundled with esbuild first. Prints a table; with `--json`, prints
 * JSON only (scripts/bench.mjs records it). Sizes: ROSTER_PEOPLE=5000, ROSTER_QUERIES=2000.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { summarize } from './lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.ROSTER_PEOPLE || 5000);
const Q = Number(process.env.ROSTER_QUERIES || 2000);
const json = process.argv.includes('--json');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-bench-'));
const entry = path.join(tmp, 'entry.ts');
fs.writeFileSync(
	entry,
	`export * from ${JSON.stringify(path.join(ROOT, 'src/lib/model/roster/search.ts'))};
export { generateDemo } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/demo.ts'))};
export { roomKey } from ${JSON.stringify(path.join(ROOT, 'src/lib/state/people.ts'))};
`
);
const out = path.join(tmp, 'bundle.mjs');
await build({
	entryPoints: [entry],
	bundle: true,
	format: 'esm',
	platform: 'node',
	outfile: out,
	alias: { $lib: path.join(ROOT, 'src/lib') },
	logLevel: 'error'
});
const m = await import(pathToFileURL(out).href);
fs.rmSync(tmp, { recursive: true, force: true });

// 5,000 people: the demo's, repeated with fresh rooms until there are enough
const demo = m.generateDemo();
const base = [];
for (const c of demo.communities) {
	const hh = new Map(c.households.map((h) => [h.id, h]));
	const bb = new Map(c.buildings.map((b) => [b.id, b]));
	for (const p of c.persons) {
		const h = hh.get(p.householdId);
		base.push({ id: p.id, name: p.name, phone: p.phone, roomKey: m.roomKey(bb.get(h?.buildingId), h) });
	}
}
const rows = [];
for (let i = 0; rows.length < N; i++) {
	const b = base[i % base.length];
	rows.push({ ...b, id: `${b.id}-${i}`, roomKey: i < base.length ? b.roomKey : `${100 + Math.floor(i / base.length)}-${b.roomKey}` });
}

const time = (fn) => {
	const t = performance.now();
	const r = fn();
	return [performance.now() - t, r];
};

// cold build (pinyin of each character computed), then rebuilds (the cache warm), as after an edit
const [coldMs] = time(() => m.buildSearchIndex(rows));
const rebuild = [];
for (let i = 0; i < 10; i++) rebuild.push(time(() => m.buildSearchIndex(rows.slice()))[0]);
const index = m.buildSearchIndex(rows);

// queries as typed, one prefix per keystroke
const words = [];
for (let i = 0; words.length < Q; i++) {
	const r = rows[(i * 7919) % rows.length];
	const forms = [r.name, 'zhang', 'zs', 'wangf', r.phone.slice(-4), r.roomKey.replace(/^(\d+)-(\d+)-/, '$1栋$2单元')];
	const w = forms[i % forms.length] || 'li';
	for (let k = 1; k <= [...w].length && words.length < Q; k++) words.push([...w].slice(0, k).join(''));
}
for (const w of words.slice(0, 200)) m.search(index, w); // warm up
const perQuery = [];
let hits = 0;
for (const w of words) {
	const [ms, r] = time(() => m.search(index, w));
	perQuery.push(ms);
	hits += r.length;
}

const result = {
	people: rows.length,
	indexColdMs: coldMs,
	indexRebuild: summarize(rebuild),
	query: summarize(perQuery),
	meanHits: hits / words.length,
	heapMiB: process.memoryUsage().heapUsed / 2 ** 20
};
if (json) console.log(JSON.stringify(result));
else {
	const f = (x) => x.toFixed(2);
	console.log(`| roster search, ${rows.length} people | value |\n|---|---|`);
	console.log(`| index build, cold (pinyin computed) | ${f(coldMs)} ms |`);
	console.log(`| index rebuild after an edit, p50 / max | ${f(result.indexRebuild.p50)} / ${f(result.indexRebuild.max)} ms |`);
	console.log(`| one query (per keystroke), p50 / p99 / max over ${words.length} | ${f(result.query.p50)} / ${f(result.query.p99)} / ${f(result.query.max)} ms |`);
	console.log(`| mean hits per query | ${result.meanHits.toFixed(0)} |`);
	console.log(`| heap used | ${result.heapMiB.toFixed(0)} MiB |`);
}

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
export { planImport, guessMapping, isKnownHeader } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/roster/import.ts'))};
export { toTable, parseCsv } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/roster/table.ts'))};
export { rollUp } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/roster/rollup.ts'))};
export { makeIdNumber } from ${JSON.stringify(path.join(ROOT, 'src/lib/model/idcard.ts'))};
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

// import: 10,000 CSV rows parsed, checked and planned (the worker's work), time and heap growth
const IMPORT_ROWS = Number(process.env.ROSTER_IMPORT_ROWS || 10000);
const c0 = demo.communities[0];
const lines = ['楼栋,单元,房号,姓名,身份证号,联系电话,与户主关系'];
for (let i = 0; i < IMPORT_ROWS; i++) {
	const b = c0.buildings[i % c0.buildings.length];
	lines.push([b.name, (i % 3) + 1, 101 + (i % 60), `居民${i}`, m.makeIdNumber('210102', `19${40 + Math.floor(i / 1000)}-03-04`, i % 1000), '13912345678', '其他'].join(','));
}
const csv = lines.join('\n');
globalThis.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const [importMs, plan] = time(() => {
	const table = m.toTable(m.parseCsv(csv), m.isKnownHeader);
	return m.planImport(table, m.guessMapping(table.headers), { buildings: c0.buildings, writable: new Set(c0.buildings.map((b) => b.id)), rosters: new Map(), today: '2025-06-01' });
});
const importHeapMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

// roll-up counts (building → grid → community) after one edit, over the whole demo street
const allBuildings = demo.communities.flatMap((cm) => cm.buildings);
const rosterMap = new Map(allBuildings.map((b) => [b.id, { households: [], persons: [] }]));
for (const cm of demo.communities) {
	const hb = new Map(cm.households.map((h) => [h.id, h.buildingId]));
	for (const h of cm.households) rosterMap.get(h.buildingId).households.push(h);
	for (const p of cm.persons) rosterMap.get(hb.get(p.householdId)).persons.push(p);
}
const rollTimes = [];
for (let i = 0; i < 50; i++) {
	const r = rosterMap.get(allBuildings[i % allBuildings.length].id);
	if (r.persons[0]) r.persons[0] = { ...r.persons[0], careFlags: i % 2 ? ['livesAlone'] : [] };
	rollTimes.push(time(() => m.rollUp(allBuildings, rosterMap))[0]);
}
const rollPeople = demo.communities.reduce((s, cm) => s + cm.persons.length, 0);

const result = {
	rollUp: { people: rollPeople, ...summarize(rollTimes) },
	importRows: IMPORT_ROWS,
	importMs,
	importAccepted: plan.accepted,
	importHeapMiB,
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
	console.log(`| roll-up counts after an edit, ${rollPeople} people, p50 / max | ${f(result.rollUp.p50)} / ${f(result.rollUp.max)} ms |`);
	console.log(`| import: ${IMPORT_ROWS} CSV rows parsed, checked, planned (${plan.accepted} accepted) | ${f(importMs)} ms, heap +${importHeapMiB.toFixed(0)} MiB |`);
}

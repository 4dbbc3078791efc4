/**
 * Extra case history for the first-paint benchmark: `count` more cases of the first demo
 * community (ids `bx-c…`, apart from the demo's `hehe-c…`), written as one Yjs update of the
 * `events` array to the file given. Bundled and run by bench/cases-bench.mjs.
 */
import fs from 'node:fs';
import * as Y from 'yjs';
import type { DomainEvent } from '../src/lib/model/events';
import { caseHistory } from '../src/lib/model/cases/demo-history';
import { generateDemo, rng } from '../src/lib/model/demo';

const [count, out] = [Number(process.argv[2]), process.argv[3]];
const cm = generateDemo().communities[0];
const gridWorkers = new Map(cm.grids.map((g, i) => [g.id, i === 0 ? 'u-gridworker' : `hehe-gw${String(i + 1).padStart(2, '0')}`]));
const events = caseHistory(cm, rng(11), {
	short: 'bx',
	count,
	actors: { secretary: 'u-secretary', staff: 'u-staff', gridWorkers, departments: new Map(), street: { actor: 'nanhu-street-01', key: 'level:street:nanhu' } }
});
const doc = new Y.Doc();
doc.getArray<DomainEvent>('events').push(events);
fs.writeFileSync(out, Y.encodeStateAsUpdate(doc));
process.stdout.write(JSON.stringify({ cases: count, events: events.length, info: cm.info.id }) + '\n');

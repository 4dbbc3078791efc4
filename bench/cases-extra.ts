/**
 * Extra case history for the first-paint benchmark: `count` more cases of the first demo
 * community (ids `bx-c…`, apart from the demo's `hehe-c…`), written as one Yjs update of the
 * `events` array to the file given. Bundled and run by bench/cases-bench.mjs.
 * Events carry signatures (docs/security.md): given the relay's data folder, they are signed
 * with the relay's key, as the relay's own services sign; unsigned ones would replay as forged.
 */
import fs from 'node:fs';
import * as Y from 'yjs';
import path from 'node:path';
import { appendEvent, setEventSigner } from '../src/lib/model/events';
import { SigningKeys } from '../sync-server/signing/keys';
import { caseHistory } from '../src/lib/model/cases/demo-history';
import { generateDemo, rng } from '../src/lib/model/demo';

const [count, out, dataDir] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const cm = generateDemo().communities[0];
const gridWorkers = new Map(cm.grids.map((g, i) => [g.id, i === 0 ? 'u-gridworker' : `hehe-gw${String(i + 1).padStart(2, '0')}`]));
const events = caseHistory(cm, rng(11), {
	short: 'bx',
	count,
	actors: { secretary: 'u-secretary', staff: 'u-staff', gridWorkers, departments: new Map(), street: { actor: 'nanhu-street-01', key: 'level:street:nanhu' } }
});
const keys = dataDir ? new SigningKeys(path.join(dataDir, 'relay.sqlite')) : undefined;
setEventSigner(keys?.signer());
const doc = new Y.Doc();
doc.transact(() => {
	for (const e of events) appendEvent(doc, e);
});
keys?.close();
fs.writeFileSync(out, Y.encodeStateAsUpdate(doc));
process.stdout.write(JSON.stringify({ cases: count, events: events.length, info: cm.info.id }) + '\n');

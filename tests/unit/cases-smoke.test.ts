import { it } from 'vitest';
import * as Y from 'yjs';
import { replay, eventsOf } from '../../src/lib/model/events';
import { caseReducer, initCaseState } from '../../src/lib/model/cases/reducer';
import { figures } from '../../src/lib/model/cases/figures';
import { DEMO_CASES_END } from '../../src/lib/model/cases/demo-history';
import { buildDemo, generateDemo } from '../../src/lib/model/demo';
it('smoke', () => {
	let t = performance.now();
	const data = generateDemo();
	console.log('generate', performance.now() - t);
	t = performance.now();
	const demo = buildDemo();
	console.log('build', performance.now() - t);
	for (const [cid, events] of data.cases) {
		const doc = demo.docs.find((d) => d.name === `community/${cid}/cases`)!;
		const y = new Y.Doc();
		Y.applyUpdate(y, doc.update);
		const arr = eventsOf(y).toArray();
		t = performance.now();
		const m = replay(arr, caseReducer, initCaseState);
		const ms = performance.now() - t;
		const states = [...m.values()].map((f) => f.state);
		const rejected = new Map<string, number>();
		for (const s of states) for (const e of s.timeline) if (e.outcome !== 'applied') rejected.set(`${e.type}:${e.reason}`, (rejected.get(`${e.type}:${e.reason}`) ?? 0) + 1);
		const status = new Map<string, number>();
		for (const s of states) status.set(s.status, (status.get(s.status) ?? 0) + 1);
		const f = figures(states, { now: DEMO_CASES_END });
		console.log(cid, doc.update.length, arr.length, states.length, 'replay ms', ms.toFixed(0), [...rejected], [...status], JSON.stringify(f));
	}
});

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ConfirmTracker } from '../../src/lib/sync/confirm';

const sv = (entries: Array<[number, number]>) => Y.encodeStateVector(new Map(entries));

describe('ConfirmTracker', () => {
	it('counts local changes until the relay state vector covers them', () => {
		const t = new ConfirmTracker();
		t.add(1, 3, 0);
		t.add(1, 5, 5000);
		t.add(1, 9, 10000);
		expect(t.count).toBe(3);
		t.confirm(sv([[1, 5]]));
		expect(t.count).toBe(1);
		t.confirm(sv([[2, 100]])); // another client's progress confirms nothing of ours
		expect(t.count).toBe(1);
		t.confirm(sv([[1, 9]]));
		expect(t.count).toBe(0);
	});

	it('a confirmation never goes backwards', () => {
		const t = new ConfirmTracker();
		t.confirm(sv([[1, 10]]));
		t.confirm(sv([[1, 4]]));
		t.add(1, 8, 0);
		expect(t.count).toBe(0);
	});

	it('counts a burst of transactions as one change', () => {
		const t = new ConfirmTracker();
		t.add(1, 1, 0);
		t.add(1, 2, 300);
		t.add(1, 3, 600);
		expect(t.count).toBe(1);
		t.confirm(sv([[1, 2]]));
		expect(t.count).toBe(1); // the burst ends at clock 3
		t.confirm(sv([[1, 3]]));
		expect(t.count).toBe(0);
	});

	it('restores pending changes and the last confirmation after a reload', () => {
		const before = new ConfirmTracker();
		before.add(7, 2, 0);
		before.add(7, 4, 5000);
		before.confirm(sv([[7, 2]]));
		const after = new ConfirmTracker();
		after.add(9, 1, 0); // a change made in the new session before the restore finished
		after.restore(before.pending, before.encodeConfirmed());
		expect(after.count).toBe(2);
		after.confirm(sv([[7, 4], [9, 1]]));
		expect(after.count).toBe(0);
	});
});

describe('ConfirmTracker: delete-only changes (R14)', () => {
	it('a deletion sent on a connection is confirmed by that connection’s acked count', () => {
		const t = new ConfirmTracker();
		t.addDelete(5, 3); // third counted message of connection 5
		t.confirm(sv([]), 5, 2);
		expect(t.count).toBe(1);
		t.confirm(sv([]), 6, 9); // another connection's count says nothing about it
		expect(t.count).toBe(1);
		t.confirm(sv([]), 5, 3);
		expect(t.count).toBe(0);
	});

	it('a deletion made offline is confirmed by the next connection’s sync step 2', () => {
		const t = new ConfirmTracker();
		t.addDelete(0, 0);
		t.confirm(sv([]), 7, 100);
		expect(t.count).toBe(1); // never sent: no count can cover it
		t.step2Sent(7, 2);
		t.confirm(sv([]), 7, 1);
		expect(t.count).toBe(1);
		t.confirm(sv([]), 7, 2);
		expect(t.count).toBe(0);
	});

	it('a deletion survives a reload and waits for the next step 2', () => {
		const before = new ConfirmTracker();
		before.addDelete(3, 4);
		const after = new ConfirmTracker();
		after.restore(before.pending);
		after.confirm(sv([]), 3, 10); // connection 3 belonged to the earlier page load
		expect(after.count).toBe(1);
		after.step2Sent(1, 1);
		after.confirm(sv([]), 1, 1);
		expect(after.count).toBe(0);
	});
});

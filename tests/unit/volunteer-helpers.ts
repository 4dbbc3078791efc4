/** Test helpers for the volunteer model: a stamped log built step by step. */
import type { Role } from '../../src/lib/model/catalogue';
import type { DomainEvent } from '../../src/lib/model/events';
import { formatHlc } from '../../src/lib/model/hlc';

export const T0 = Date.UTC(2026, 5, 1, 0, 0, 0); // 2026-06-01 08:00 China time
export const H = 3_600_000;
export const M = 60_000;

export const STAFF = { actor: 'u-staff', role: 'staff' as Role };

/** A log whose events get increasing times from `t` (set `log.t` to move the clock). */
export class Log {
	events: DomainEvent[] = [];
	t = T0;
	n = 0;
	add(actor: string, role: Role, type: string, subject: string, data: unknown = null, opts: { at?: number; node?: string; id?: string } = {}): DomainEvent {
		const at = opts.at ?? this.t;
		const e: DomainEvent = { id: opts.id ?? `e${String(this.n++).padStart(4, '0')}`, at: formatHlc({ wallMs: at, counter: this.n % 0xffff, node: opts.node ?? 'dev' }), actor, role, type, subject, data };
		this.events.push(e);
		if (opts.at === undefined) this.t += 1000;
		return e;
	}
	staff(type: string, subject: string, data: unknown = null, opts = {}) {
		return this.add(STAFF.actor, STAFF.role, type, subject, data, opts);
	}
	enrol(id: string, name: string, extra: Record<string, unknown> = {}) {
		return this.staff('enrol', id, { name, ...extra });
	}
	task(id: string, extra: Record<string, unknown> = {}) {
		return this.staff('task', id, { title: '助老送餐', place: '和合居社区服务站', start: T0 + 24 * H, end: T0 + 26 * H, capacity: 2, eligibility: 'anyone', pointsPerHour: 10, cancelCutoffMin: 120, ...extra });
	}
}

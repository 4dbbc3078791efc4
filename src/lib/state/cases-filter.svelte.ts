/**
 * The board's filters, kept for the session so that opening a case and coming back finds the
 * list as it was left.
 */
import type { BoardFilter, Channel, Status } from '$lib/model/cases';

export type BoardView = 'inbox' | 'mine' | 'board' | 'list' | 'map';
export type Period = 'all' | '7d' | '30d' | '90d' | '365d';

export const PERIOD_DAYS: Record<Exclude<Period, 'all'>, number> = { '7d': 7, '30d': 30, '90d': 90, '365d': 365 };

class CaseFilters {
	view = $state<BoardView | undefined>(undefined);
	text = $state('');
	category = $state('');
	grid = $state('');
	status = $state<Status | 'open' | ''>('open');
	channel = $state<Channel | ''>('');
	handler = $state('');
	overdue = $state(false);
	conflicts = $state(false);
	period = $state<Period>('all');
	sort = $state<'newest' | 'oldest' | 'due'>('newest');
	/** the map's period, for markers and the heat layer */
	mapPeriod = $state<Period>('90d');

	/** How many filters are set beyond the default (open cases). */
	get active(): number {
		return [this.text.trim(), this.category, this.grid, this.status !== 'open', this.channel, this.handler, this.overdue, this.conflicts, this.period !== 'all'].filter(Boolean).length;
	}

	reset(): void {
		this.text = '';
		this.category = '';
		this.grid = '';
		this.status = 'open';
		this.channel = '';
		this.handler = '';
		this.overdue = false;
		this.conflicts = false;
		this.period = 'all';
	}

	/** The model's filter for these settings at `now`. */
	filter(now: number): BoardFilter {
		const f: BoardFilter = {};
		if (this.text.trim()) f.text = this.text.trim();
		if (this.category) f.category = this.category;
		if (this.grid) f.grid = this.grid === '(none)' ? '' : this.grid;
		if (this.status === 'open') f.open = true;
		else if (this.status) f.status = this.status;
		if (this.channel) f.channel = this.channel;
		if (this.handler) f.handler = this.handler;
		if (this.overdue) f.overdue = true;
		if (this.conflicts) f.conflicts = true;
		if (this.period !== 'all') f.from = now - PERIOD_DAYS[this.period] * 86_400_000;
		return f;
	}
}

export const caseFilters = new CaseFilters();

/** Small statistics helpers for the benchmarks. */

/** Percentile by nearest rank on a sorted copy; `p` in [0, 100]. NaN for no samples. */
export function percentile(values, p) {
	if (!values.length) return NaN;
	const sorted = Float64Array.from(values).sort();
	return percentileSorted(sorted, p);
}

export function percentileSorted(sorted, p) {
	if (!sorted.length) return NaN;
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
	if (!values.length) return NaN;
	const s = Float64Array.from(values).sort();
	const mid = s.length >> 1;
	return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(values) {
	const sorted = Float64Array.from(values).sort();
	return {
		n: sorted.length,
		p50: percentileSorted(sorted, 50),
		p90: percentileSorted(sorted, 90),
		p99: percentileSorted(sorted, 99),
		max: sorted.length ? sorted[sorted.length - 1] : NaN,
		mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN
	};
}

/** Format a number of milliseconds for a table cell. */
export function ms(v) {
	if (v === undefined || v === null || Number.isNaN(v)) return '–';
	if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
	if (v >= 100) return `${v.toFixed(0)} ms`;
	if (v >= 10) return `${v.toFixed(1)} ms`;
	return `${v.toFixed(2)} ms`;
}

export function mib(bytes) {
	if (bytes === undefined || bytes === null || Number.isNaN(bytes)) return '–';
	return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** ours / ref as "×1.23"; '–' when either is missing. */
export function ratio(ours, ref) {
	if (!Number.isFinite(ours) || !Number.isFinite(ref) || ref === 0) return '–';
	return `×${(ours / ref).toFixed(2)}`;
}

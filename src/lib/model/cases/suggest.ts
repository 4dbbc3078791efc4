/**
 * Category suggestion as the user types, on the device and offline: a multinomial naive
 * Bayes classifier over character unigrams and bigrams (Chinese has no spaces; a bigram
 * such as 井盖 or 路灯 carries most of the meaning), trained from the built-in keywords of
 * each category and from the community's own past cases (description → final category,
 * as the office confirmed it).
 *
 *   score(c | text) ∝ P(c) · Π_f P(f | c)^k_f      over the text's features f (k_f times each)
 *   P(c)     = (cases_c + 1) / (cases + C)
 *   P(f | c) = (n_f,c + α) / (n_c + α · V)          α = 0.5, V = features seen
 * Keywords count as `keywordWeight` (default 4) occurrences of their features. Features never
 * seen in training are skipped. The scores returned are the posteriors normalised to sum 1.
 */
import { CATEGORIES, type CategoryDef, type CaseState } from './types';

export interface Suggestion {
	code: string;
	score: number;
}

const ALPHA = 0.5;

/** Features of a text: CJK unigrams and bigrams within runs of CJK, latin/digit words. */
export function features(text: string): string[] {
	const out: string[] = [];
	const s = text.toLowerCase();
	let prev = '';
	let word = '';
	const flush = () => {
		if (word.length > 1) out.push(word);
		word = '';
	};
	for (const ch of s) {
		const code = ch.codePointAt(0)!;
		const cjk = (code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf);
		if (cjk) {
			flush();
			out.push(ch);
			if (prev) out.push(prev + ch);
			prev = ch;
		} else if ((code >= 97 && code <= 122) || (code >= 48 && code <= 57)) {
			prev = '';
			word += ch;
		} else {
			prev = '';
			flush();
		}
	}
	flush();
	return out;
}

export class CategorySuggester {
	readonly codes: string[];
	readonly #index: Map<string, number>;
	/** feature → count per category */
	readonly #counts = new Map<string, Float64Array>();
	readonly #totals: Float64Array;
	readonly #docs: Float64Array;
	#cases = 0;
	/** log denominators and priors, recomputed lazily after training */
	#logDen: Float64Array | undefined;
	#logPrior: Float64Array | undefined;

	constructor(vocabulary: readonly CategoryDef[] = CATEGORIES, keywordWeight = 4) {
		this.codes = vocabulary.map((c) => c.code);
		this.#index = new Map(this.codes.map((c, i) => [c, i]));
		this.#totals = new Float64Array(this.codes.length);
		this.#docs = new Float64Array(this.codes.length);
		for (const c of vocabulary) {
			const i = this.#index.get(c.code)!;
			for (const kw of [c.zh, ...c.keywords]) this.#addFeatures(features(kw), i, keywordWeight);
		}
	}

	#addFeatures(fs: string[], i: number, w: number): void {
		for (const f of fs) {
			let row = this.#counts.get(f);
			if (!row) this.#counts.set(f, (row = new Float64Array(this.codes.length)));
			row[i] += w;
			this.#totals[i] += w;
		}
		this.#logDen = undefined;
	}

	/** Learn from one past case (its description and final category). Unknown categories are ignored. */
	add(description: string, category: string): void {
		const i = this.#index.get(category);
		if (i === undefined) return;
		this.#addFeatures(features(description), i, 1);
		this.#docs[i]++;
		this.#cases++;
		this.#logPrior = undefined;
	}

	/** Forget one past case (its category was corrected, or it was taken out). */
	remove(description: string, category: string): void {
		const i = this.#index.get(category);
		if (i === undefined || this.#docs[i] <= 0) return;
		this.#addFeatures(features(description), i, -1);
		this.#docs[i]--;
		this.#cases--;
		this.#logPrior = undefined;
	}

	/** Train from replayed cases: those the office accepted, with their final category. */
	addCases(cases: Iterable<CaseState>): void {
		for (const c of cases) if (c.exists && c.acceptedAt !== undefined && !c.mergedInto) this.add(c.description, c.category);
	}

	#prepare(): void {
		const n = this.codes.length;
		if (!this.#logDen) {
			const v = this.#counts.size;
			this.#logDen = new Float64Array(n);
			for (let i = 0; i < n; i++) this.#logDen[i] = Math.log(this.#totals[i] + ALPHA * v);
		}
		if (!this.#logPrior) {
			this.#logPrior = new Float64Array(n);
			for (let i = 0; i < n; i++) this.#logPrior[i] = Math.log((this.#docs[i] + 1) / (this.#cases + n));
		}
	}

	/** Ranked categories for what the user has typed so far; [] when nothing is recognised. */
	suggest(text: string, limit = 5): Suggestion[] {
		this.#prepare();
		const n = this.codes.length;
		const logDen = this.#logDen!;
		const score = Float64Array.from(this.#logPrior!);
		let known = 0;
		for (const f of features(text)) {
			const row = this.#counts.get(f);
			if (!row) continue;
			known++;
			for (let i = 0; i < n; i++) score[i] += Math.log(Math.max(row[i], 0) + ALPHA) - logDen[i];
		}
		if (known === 0) return [];
		let max = -Infinity;
		for (let i = 0; i < n; i++) max = Math.max(max, score[i]);
		let sum = 0;
		for (let i = 0; i < n; i++) sum += score[i] = Math.exp(score[i] - max);
		const out: Suggestion[] = this.codes.map((code, i) => ({ code, score: score[i] / sum }));
		out.sort((a, b) => b.score - a.score || (a.code < b.code ? -1 : 1));
		return out.slice(0, limit);
	}
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	ageOn,
	birthDateFromId,
	checkIdNumber,
	genderFromId,
	idCheckDigit,
	isMobile,
	isValidIdNumber,
	makeIdNumber,
	maskId,
	maskPhone
} from '../../src/lib/model/idcard';

describe('resident ID numbers (GB 11643)', () => {
	// The standard's own example, and numbers checked by hand against the weights.
	it.each([
		['11010519491231002X', '1949-12-31', 'F'],
		['440524188001010014', '1880-01-01', 'M'], // too old for us: see the date table
		['210102199001011237', '1990-01-01', 'M'],
		['210102200002290026', '2000-02-29', 'F']
	])('check digit of %s', (id, birth, gender) => {
		expect(idCheckDigit(id.slice(0, 17))).toBe(id[17]);
		if (birth >= '1900') {
			expect(checkIdNumber(id)).toEqual({ ok: true, idNumber: id, area: id.slice(0, 6), birthDate: birth, gender });
			expect(birthDateFromId(id)).toBe(birth);
			expect(genderFromId(id)).toBe(gender);
		}
	});

	it('accepts a lower-case x and spaces, and reports the normalised number', () => {
		expect(checkIdNumber(' 110105 19491231002x ')).toMatchObject({ ok: true, idNumber: '11010519491231002X' });
	});

	it.each([
		['21010219900101123', 'format'], // 17 characters
		['2101021990010112390', 'format'],
		['21010219900101123A', 'format'],
		['X10102199001011239', 'format'],
		['990102199001011234', 'area'],
		['210102199002301234', 'date'], // 30 February
		['210102190002291234', 'date'], // 1900 was not a leap year
		['210102199013011234', 'date'],
		['210102189912311234', 'date'], // before 1900
		['210102199001011234', 'check'], // should end in 7
		['210102199001011238', 'check'],
		['11010519491231002Y', 'format']
	])('%s is refused (%s)', (id, problem) => {
		const r = checkIdNumber(id);
		expect(r.ok).toBe(false);
		if (!r.ok) {
			expect(r.problem).toBe(problem);
			expect(r.message.length).toBeGreaterThan(5);
		}
	});

	it('refuses a birth date after "today" when given one', () => {
		const id = makeIdNumber('210102', '2025-06-02', 11);
		expect(isValidIdNumber(id)).toBe(true);
		expect(checkIdNumber(id, { today: '2025-06-01' })).toMatchObject({ ok: false, problem: 'date' });
	});

	it('every number made from parts is valid and gives back its parts; one changed digit is caught', () => {
		const arbDate = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2025-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
		fc.assert(
			fc.property(arbDate, fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 }), (birth, seq, pos, delta) => {
				const id = makeIdNumber('210102', birth, seq);
				expect(checkIdNumber(id)).toMatchObject({ ok: true, birthDate: birth, gender: seq % 2 ? 'M' : 'F' });
				// MOD 11-2 catches every single-digit error
				const wrong = id.slice(0, pos) + String((Number(id[pos]) + delta) % 10) + id.slice(pos + 1);
				expect(isValidIdNumber(wrong)).toBe(false);
			})
		);
	});

	it('ageOn counts whole years', () => {
		expect(ageOn('1990-06-02', '2025-06-01')).toBe(34);
		expect(ageOn('1990-06-01', '2025-06-01')).toBe(35);
		expect(ageOn('2000-02-29', '2025-02-28')).toBe(24);
	});
});

describe('mobile numbers', () => {
	it.each([
		['13812345678', true],
		['19912345678', true],
		['138 1234 5678', true],
		['12812345678', false],
		['1381234567', false],
		['138123456789', false],
		['02423456789', false],
		['', false]
	])('%s → %s', (n, ok) => expect(isMobile(n)).toBe(ok));
});

describe('masking', () => {
	it.each([
		['210102199001011234', '210102********1234'],
		['11010519491231002X', '110105********002X'],
		['1234', '****'],
		['123456789', '*****6789'],
		['', '']
	])('maskId(%s) = %s', (id, masked) => expect(maskId(id)).toBe(masked));

	it.each([
		['13812345678', '138****5678'],
		['024-2345678', '*******5678'],
		['110', '***'],
		['', '']
	])('maskPhone(%s) = %s', (p, masked) => expect(maskPhone(p)).toBe(masked));
});

/**
 * The shared websocket frame (`binaryFrame`, sync-server/socket.ts) that the relay writes past
 * ws's sender: read back by ws's own receiver, every length class of RFC 6455 §5.2 (7-bit,
 * 16-bit and 64-bit lengths, at their edges) gives back the same bytes as one binary message.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { binaryFrame } from '../../sync-server/socket';

// ws's parser, as a client uses it (a client's receiver takes unmasked frames from a server)
const { Receiver } = createRequire(import.meta.url)('ws');

function parse(frame: Buffer): Promise<{ data: Buffer; isBinary: boolean }[]> {
	return new Promise((resolve, reject) => {
		const got: { data: Buffer; isBinary: boolean }[] = [];
		const r = new Receiver({ isServer: false, maxPayload: 0 });
		r.on('message', (data: Buffer, isBinary: boolean) => got.push({ data, isBinary }));
		r.on('error', reject);
		r.write(frame, () => resolve(got));
	});
}

describe('shared binary frame', () => {
	it.each([0, 1, 125, 126, 127, 65535, 65536, 70000])('a %i-byte message', async (n) => {
		const message = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff);
		const got = await parse(binaryFrame(message));
		expect(got).toHaveLength(1);
		expect(got[0].isBinary).toBe(true);
		expect(Buffer.compare(got[0].data, Buffer.from(message))).toBe(0);
	});

	it('one frame per message object, made again for the next message', async () => {
		const a = new Uint8Array([1, 2, 3]);
		const b = new Uint8Array([1, 2, 3]);
		expect(binaryFrame(a)).toBe(binaryFrame(a));
		expect(binaryFrame(b)).not.toBe(binaryFrame(a));
		await fc.assert(
			fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }), async (messages) => {
				const got = await parse(Buffer.concat(messages.map((m) => binaryFrame(m))));
				expect(got.map((g) => [...g.data])).toEqual(messages.map((m) => [...m]));
			})
		);
	});
});

/**
 * A small real PNG made in the test itself (no fixture file): a red square on grey, RGB, 8 bits,
 * so an upload goes through real decoding and re-encoding. Used by the browser specs and the
 * screenshot scripts.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

/** @param {Buffer} buf */
function crc(buf) {
	let c = 0xffffffff;
	for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

/** @param {string} type @param {Buffer} data */
function chunk(type, data) {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
	const sum = Buffer.alloc(4);
	sum.writeUInt32BE(crc(body));
	return Buffer.concat([len, body, sum]);
}

/**
 * A `w`×`h` PNG: a red square (the middle half) on grey.
 * @param {number} [w]
 * @param {number} [h]
 * @returns {Buffer}
 */
export function png(w = 64, h = 48) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // RGB
	const raw = Buffer.alloc((w * 3 + 1) * h);
	for (let y = 0; y < h; y++)
		for (let x = 0; x < w; x++) {
			const i = y * (w * 3 + 1) + 1 + x * 3;
			const red = x > w / 4 && x < (3 * w) / 4 && y > h / 4 && y < (3 * h) / 4;
			raw[i] = red ? 200 : 180;
			raw[i + 1] = red ? 30 : 180;
			raw[i + 2] = red ? 30 : 180;
		}
	return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

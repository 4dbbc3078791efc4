/** What the "saved on this device" hint says: saved once the device's disk has the last edit. */
export class SaveStatus {
	state = $state<'idle' | 'saving' | 'saved'>('idle');
	#seq = 0;

	track(saved: Promise<void>): void {
		const n = ++this.#seq;
		// Typing keeps it "saved" rather than flickering: each keystroke is on disk within milliseconds.
		if (this.state === 'idle') this.state = 'saving';
		saved.then(
			() => {
				if (n === this.#seq) this.state = 'saved';
			},
			() => {
				if (n === this.#seq) this.state = 'idle';
			}
		);
	}
}

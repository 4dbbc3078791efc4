/** Offer a blob to the user as a file download (the ledger, rejected rows, exports, hand-off files). */
export function saveBlob(blob: Blob, name: string): void {
	const url = URL.createObjectURL(blob);
	const a = document.createElement('a');
	a.href = url;
	a.download = name;
	document.body.append(a);
	a.click();
	a.remove();
	// revoked later: some browsers read the URL after click() returns
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

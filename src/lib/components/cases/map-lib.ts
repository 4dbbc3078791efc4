/** maplibre, loaded on first use (its own chunk), with the worker URL the bundle needs. */
import type * as ML from 'maplibre-gl';

let loading: Promise<typeof ML> | undefined;

export function loadMaplibre(): Promise<typeof ML> {
	loading ??= Promise.all([
		import('maplibre-gl'),
		import('maplibre-gl/dist/maplibre-gl-worker.mjs?url'),
		import('maplibre-gl/dist/maplibre-gl.css')
	]).then(([ml, worker]) => {
		if (ml.getWorkerUrl() !== worker.default) ml.setWorkerUrl(worker.default);
		return ml;
	});
	return loading;
}

export const ZH_MAP_LOCALE = {
	'CooperativeGesturesHandler.WindowsHelpText': '按住 Ctrl 键并滚动鼠标滚轮以缩放地图',
	'CooperativeGesturesHandler.MacHelpText': '按住 ⌘ 键并滚动以缩放地图',
	'CooperativeGesturesHandler.MobileHelpText': '请用两根手指移动地图',
	'NavigationControl.ZoomIn': '放大',
	'NavigationControl.ZoomOut': '缩小',
	'NavigationControl.ResetBearing': '重置方向',
	'Map.Title': '地图'
};

/** Marker colours by status group: open and waiting red, being handled blue, done green, closed grey. */
export const STATUS_COLOUR: Record<string, string> = {
	submitted: '#dc2626',
	accepted: '#ea580c',
	dispatched: '#0284c7',
	inProgress: '#2563eb',
	reworking: '#c026d3',
	resolved: '#059669',
	evaluated: '#10b981',
	closed: '#a8a29e',
	rejected: '#a8a29e',
	archived: '#d6d3d1'
};

/**
 * The services around the relay core (style.md: the core knows no schema; what must read or
 * write documents uses src/lib/model like any other client):
 *
 * - intake.ts      residents' outbox → cases document under a pseudonym, and their view back
 * - open311.ts     Open311 GeoReport v2 for hotlines and other platforms
 * - figures-api.ts figures across a street's or a district's communities
 * - archive.ts     the yearly case archive: daily at 03:00 Beijing, or POST /api/cases/archive
 * - council.ts     residents' topics, seconds and ratings → the council document
 *
 * They share the room watcher (watch.ts), in-process document handles (docs.ts, which await the
 * load: PostgreSQL loads asynchronously), one outbox worker (worker.ts), the territory and case
 * caches, and their own SQLite tables (store.ts).
 *
 * Several instances (DATABASE_URL): Open311, figures and an office's archive request run on any
 * instance. Intake, council and volunteer copying and the daily archive run only on the instance
 * holding the services' lease (lease.ts, a PostgreSQL advisory lock); it hears of the other
 * instances' commits through the fan-out (`stored`), and sweeps every contact document and desk
 * when it takes the lease over. Its SQLite tables (pseudonym links, documents to look at again)
 * are its own: derived data that a new holder rebuilds in that sweep (docs/operations.md).
 */
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tokens } from '../auth';
import { log } from '../log';
import type { Storage } from '../storage';
import { archiverEnv, CaseArchiver } from './archive';
import { CaseStates } from './case-states';
import { CouncilIntake } from './council';
import { ServiceDocs } from './docs';
import { FiguresApi } from './figures-api';
import { Intake } from './intake';
import { Open311 } from './open311';
import { loadOrCreateIntakeSecret, ServiceStore, type ReporterLink } from './store';
import { Territory } from './territory';
import { VolunteerIntake } from './volunteer';
import { RelayVerifier, type RingSource } from '../signing/verifier';
import type { WatchedRooms } from './watch';
import { soleInstance, type Lease } from './lease';

export interface ServicesConfig {
	dataDir: string;
	/** INTAKE_SECRET; unset: DATA_DIR/intake-secret */
	intakeSecret?: string;
	open311ApiKey?: string;
	open311Jurisdiction?: string;
}

export interface Services {
	/** Answers the request if it is one of the services'; false when it is not theirs. */
	handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
	readonly intake: Intake;
	/** Stop reacting and leave every room (before the relay's final flush). */
	stop(): void;
}

export function startServices(opts: {
	rooms: WatchedRooms;
	storage: Storage;
	tokens: Tokens;
	config: ServicesConfig;
	/** pseudonyms the demo seeding wrote into contact documents */
	seededReporters?: ReporterLink[];
	/** which instance runs the outbox services; default: this one (one relay) */
	lease?: Lease;
	/** the key ring the volunteer service judges events' signatures by */
	keys: RingSource;
}): Services {
	const { rooms, storage, tokens, config } = opts;
	const lease = opts.lease ?? soleInstance;
	const store = new ServiceStore(path.join(config.dataDir, 'relay.sqlite'), loadOrCreateIntakeSecret(config.dataDir, config.intakeSecret));
	const readers = new ServiceDocs(rooms, 'readers');
	const territory = new Territory(storage, readers);
	const cases = new CaseStates(storage, readers);
	const intakeDocs = new ServiceDocs(rooms, 'intake');
	const intake = new Intake({ docs: intakeDocs, store, storage, territory });
	const open311Docs = new ServiceDocs(rooms, 'open311');
	const open311 = new Open311({ docs: open311Docs, storage, territory, cases, config: { apiKey: config.open311ApiKey, jurisdiction: config.open311Jurisdiction } });
	const figures = new FiguresApi({ tokens, territory, cases });
	const archiveDocs = new ServiceDocs(rooms, 'archive');
	const archiver = new CaseArchiver({ docs: archiveDocs, storage, tokens, ...archiverEnv(), leads: () => lease.held });
	const councilDocs = new ServiceDocs(rooms, 'council');
	const council = new CouncilIntake({ docs: councilDocs, store });
	const volunteerDocs = new ServiceDocs(rooms, 'volunteer');
	const volunteer = new VolunteerIntake({ docs: volunteerDocs, store, storage, verifier: new RelayVerifier(opts.keys) });
	const unwatch = [rooms.watch(territory), rooms.watch(cases), rooms.watch(intake), rooms.watch(council), rooms.watch(volunteer)];
	if (opts.seededReporters?.length) intake.registerSeeded(opts.seededReporters);
	const workers = [intake.worker, council.worker, volunteer.worker];
	let first = true;
	for (const w of workers) w.setActive(false);
	lease.start(
		() => {
			for (const w of workers) w.setActive(true);
			// One relay at start: what its own marks say. Taking over from another instance: everything.
			intake.sweep(!first || lease !== soleInstance);
			if (!first || lease !== soleInstance) volunteer.sweep();
			first = false;
		},
		() => {
			for (const w of workers) w.setActive(false);
		}
	);
	log.info('services started', { open311: config.open311ApiKey ? 'on' : 'off (no OPEN311_API_KEY)', jurisdiction: config.open311Jurisdiction ?? '(any)' });
	return {
		intake,
		async handle(req, res, url) {
			return (await open311.handle(req, res, url)) || (await figures.handle(req, res, url)) || (await archiver.handle(req, res, url));
		},
		stop() {
			void lease.stop();
			archiver.stop();
			archiveDocs.close();
			intake.stop();
			council.stop();
			councilDocs.close();
			volunteer.stop();
			volunteerDocs.close();
			unwatch.forEach((u) => u());
			intakeDocs.close();
			readers.close();
			open311Docs.close();
			store.close();
		}
	};
}

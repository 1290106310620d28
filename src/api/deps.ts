import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { RunLifecycle } from '../lifecycle/lifecycle.js';
import type { BreakerSnapshot } from '../policies/breakers.js';
import type { RunJobData } from '../queue/runs-queue.js';
import type { RunEventHub } from '../runs/event-hub.js';
import type { RedisEventLog } from '../runs/events.js';
import type { RunStore } from '../runs/store.js';
import type { TeamCatalog } from '../teams/catalog.js';
import type { ApiKeys } from './auth.js';
import type { OidcVerifier } from './oidc.js';

/** Everything the API needs, injected by the CLI (or a test). */
export interface ApiDeps {
  config: Config;
  redis: Redis;
  store: RunStore;
  /** Creates, cancels and retries runs: the only writer of a run's status. */
  lifecycle: RunLifecycle;
  events: RedisEventLog;
  /** Follows many runs' event streams over one blocking Redis connection (SSE). */
  eventHub: RunEventHub;
  queue: Queue<RunJobData>;
  /** Team files and the team registry (reads for every caller, changes for admins). */
  teams: TeamCatalog;
  keys: ApiKeys;
  /** JWT bearer tokens from the configured OIDC issuer; absent: API keys only. */
  oidc?: OidcVerifier;
  log: Logger;
  /** Circuit-breaker states known to this process (a worker in the same process, as in `baton dev`). */
  localBreakers?: () => BreakerSnapshot[];
}

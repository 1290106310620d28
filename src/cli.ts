#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EvalFlags } from '../evals/runner.js';
import { type Config, ConfigError, loadConfig } from './config/index.js';
import { LOOPBACK_HOSTS } from './core/host-list.js';
import { RedisNotInstalledError, startEmbeddedRedis } from './embedded-redis.js';
import { assertProviderConfigured } from './models/router.js';
import { patternNames } from './orchestrators/index.js';
import { collectQueueStats, queueGaugeSnapshot } from './queue/stats.js';
import { runCommand } from './run-client.js';
import { openRedis, type RedisTarget } from './runs/redis-connection.js';
import { apiDeps, createServices, loadTeamFiles, startOnlineEvaluation, workerDeps } from './services.js';
import { TeamCatalog } from './teams/catalog.js';
import { problemSentence } from './teams/document.js';
import { type LoadedTeam, loadTeamFiles as readTeamFiles, TeamFilesError } from './teams/files.js';
import { modelEnvironment } from './teams/models.js';
import { TeamRegistryStore } from './teams/registry-store.js';
import { createLogger } from './telemetry/logger.js';
import { observeQueue } from './telemetry/metrics.js';
import { shutdownTelemetry } from './telemetry/sdk.js';
import { startRunWorker } from './worker/run-worker.js';

const VERSION = '0.1.0';

function fail(message: string, code = 1): never {
  process.stderr.write(`baton: ${message}\n`);
  process.exit(code);
}

/** Loads config; roles that call models also check the chosen provider has its settings. */
function configOrExit(env: NodeJS.ProcessEnv = process.env, callsModels = false): Config {
  try {
    const config = loadConfig(env);
    if (callsModels) assertProviderConfigured(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

function loggerFor(config: Config, role: string, pretty = false): Logger {
  return createLogger({
    level: config.telemetry.logLevel,
    pretty,
    base: { role },
    captureContent: config.telemetry.captureContent,
  });
}

/** Closes everything once on SIGTERM/SIGINT; a second signal exits at once. */
function onShutdown(log: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    closing = true;
    log.info({ signal }, 'shutting down: no new jobs; in-flight runs stop at a step boundary');
    close()
      .then(() => shutdownTelemetry())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

interface Roles {
  api: boolean;
  worker: boolean;
}

async function serve(
  config: Config,
  redisUrl: string,
  roles: Roles,
  log: Logger,
  stopRedis?: () => Promise<void>,
) {
  const services = servicesOrExit(config, redisUrl, log);
  const closers: (() => Promise<void>)[] = [];
  let started: Promise<void> = Promise.resolve();
  // Installed before anything starts: a SIGTERM that lands during start-up (a rollout, a scale-in) must not end
  // the process before it has closed what it started (its heartbeat would stay in the fleet view for a TTL).
  onShutdown(log, async () => {
    await started.catch(() => undefined);
    for (const close of closers) await close();
    await services.close();
    await stopRedis?.();
  });
  log.info({ roles: Object.keys(roles).filter((r) => roles[r as keyof Roles]) }, 'starting');
  started = startRoles(config, roles, services, log, closers);
  await started;
}

async function startRoles(
  config: Config,
  roles: Roles,
  services: ReturnType<typeof createServices>,
  log: Logger,
  closers: (() => Promise<void>)[],
): Promise<void> {
  // The team files' versions go into the registry as soon as Redis answers; start-up does not wait for it.
  services.teams.ready().then(
    () => log.info({ registry: config.teams.registry }, 'team versions stored in the registry'),
    (err: unknown) => log.error({ err }, 'could not store the team versions in the registry'),
  );
  let breakers: (() => ReturnType<typeof services.breakers.snapshot>) | undefined;
  if (roles.worker) {
    const deps = workerDeps(config, services, log);
    const worker = await startRunWorker(deps);
    closers.push(() => worker.close());
    const evaluation = startOnlineEvaluation(config, services, log);
    breakers = () => services.breakers.snapshot();
    closers.push(() => evaluation.close());
    // After the worker has drained: runs still in flight use the MCP clients.
    closers.push(async () => deps.engine.tools?.close());
  }
  if (roles.api) {
    // Loaded only by the roles that serve HTTP: a worker process does not hold Fastify and the console (~60 MB).
    const { buildApi } = await import('./api/app.js');
    const deps = apiDeps(config, services, log);
    const app = await buildApi({ ...deps, ...(breakers ? { localBreakers: breakers } : {}) });
    let stopQueueGauges: (() => void) | undefined;
    // Registered before listening: a signal while the port opens still closes the app.
    closers.unshift(async () => {
      stopQueueGauges?.();
      await app.close();
      await deps.queue.close();
    });
    await app.listen({ port: config.port, host: config.host });
    // Queue gauges come from the API role (one per deployment is enough; dashboards take the max).
    stopQueueGauges = observeQueue(async () =>
      queueGaugeSnapshot(await collectQueueStats(deps.queue, services.redis, config.redisPrefix)),
    );
  }
}

/** The process's services; bad team files refuse start-up with one sentence per problem (exit code 2). */
function servicesOrExit(config: Config, redisUrl: string, log: Logger): ReturnType<typeof createServices> {
  try {
    return createServices(config, redisUrl, log);
  } catch (err) {
    if (!(err instanceof TeamFilesError)) throw err;
    fail(`the team files are invalid:\n${err.problems.map((p) => `  ${problemSentence(p)}`).join('\n')}`, 2);
  }
}

/** `baton teams validate <file|dir>`: checks team files as start-up would, without starting anything. */
function validateTeams(path: string): number {
  const config = configOrExit();
  const { teams, problems } = readTeamFiles(path, modelEnvironment(config));
  for (const p of problems) process.stderr.write(`${problemSentence(p)}\n`);
  for (const t of teams) process.stdout.write(`ok ${t.file}: team ${t.team.name}, version ${t.version}\n`);
  if (teams.length === 0 && problems.length === 0) process.stderr.write(`${path} holds no team files.\n`);
  return problems.length > 0 || teams.length === 0 ? 1 : 0;
}

/** `baton teams list`: the teams a service with this configuration would offer (files, and the registry). */
async function listTeams(): Promise<number> {
  const config = configOrExit();
  let files: LoadedTeam[];
  try {
    files = loadTeamFiles(config);
  } catch (err) {
    if (!(err instanceof TeamFilesError)) throw err;
    for (const p of err.problems) process.stderr.write(`${problemSentence(p)}\n`);
    return 1;
  }
  const log = loggerFor(config, 'teams');
  const redis =
    config.redisUrl && config.teams.registry !== 'files'
      ? connectOnce({ url: config.redisUrl, cluster: config.redisCluster })
      : undefined;
  try {
    const store = redis ? new TeamRegistryStore(redis, config.redisPrefix) : undefined;
    const catalog = new TeamCatalog({ files, store, mode: config.teams.registry, log });
    for (const { version, team } of await catalog.list()) {
      const file = files.find((f) => f.team.name === team.name && f.version === version);
      const patterns = Object.keys(team.patterns).join(',');
      const variants = Object.keys(team.variants ?? {});
      process.stdout.write(
        `${team.name}\t${version}\t${file ? file.file : 'registry'}\t${patterns}\t${team.agents.length} agents${variants.length ? `\tvariants ${variants.join(',')}` : ''}\n`,
      );
    }
    return 0;
  } finally {
    redis?.disconnect();
  }
}

function connectOnce(target: RedisTarget): Redis {
  const redis = openRedis(target, { maxRetriesPerRequest: 1, lazyConnect: false });
  redis.on('error', () => {});
  return redis;
}

function printDevBanner(config: Config, key: string, generated: boolean, redis: string): void {
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const article =
    'Contoso Motors raises guidance after record quarter\\n\\nContoso Motors reported record quarterly profit and raised its full-year guidance; shares rose. Supplier Fabrikam Industries warned of a revenue shortfall after a battery recall, and its shares fell.';
  const lines = [
    '',
    `baton ${VERSION} is running (API + worker in one process, ${config.models.provider} model${config.models.provider === 'simulated' ? ': offline, SIMULATED answers' : ''}).`,
    `  API      ${base}   docs ${base}/docs`,
    `  Redis    ${redis}`,
    generated
      ? `  API key  ${key}   (generated for this session: set BATON_API_KEYS=<key>:admin to keep one)`
      : '  API key  from BATON_API_KEYS',
    '',
    'Try it:',
    `  export BATON_KEY=${generated ? key : '<your key>'}`,
    `  curl -s -X POST ${base}/v1/runs -H "Authorization: Bearer $BATON_KEY" -H 'Content-Type: application/json' \\`,
    `    -d '{"team":"news-desk","pattern":"sequential","input":"${article}"}'`,
    `  curl -N ${base}/v1/runs/<id>/events -H "Authorization: Bearer $BATON_KEY"`,
    `  curl -s ${base}/v1/runs/<id> -H "Authorization: Bearer $BATON_KEY"`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function dev(): Promise<void> {
  const env = { ...process.env };
  let generatedKey: string | undefined;
  if (!env.BATON_API_KEYS) {
    generatedKey = `baton_dev_${randomBytes(18).toString('base64url')}`;
    env.BATON_API_KEYS = `${generatedKey}:admin`;
  }
  // On one machine, webhooks to the machine itself work without configuration (signed with a session secret).
  env.BATON_WEBHOOK_HOSTS ??= LOOPBACK_HOSTS;
  const generatedWebhookSecret = env.BATON_WEBHOOK_SECRET ? undefined : randomBytes(24).toString('base64url');
  env.BATON_WEBHOOK_SECRET ??= generatedWebhookSecret;
  const config = configOrExit(env, true);
  const log = loggerFor(config, 'dev', process.stdout.isTTY === true);
  let redisUrl = config.redisUrl;
  let stopRedis: (() => Promise<void>) | undefined;
  if (!redisUrl && config.redisCluster) {
    fail('BATON_REDIS_CLUSTER needs REDIS_URL (the embedded Redis of baton dev is a single server).', 2);
  }
  if (!redisUrl) {
    try {
      const embedded = await startEmbeddedRedis(config.dataDir);
      redisUrl = embedded.url;
      stopRedis = embedded.stop;
    } catch (err) {
      if (err instanceof RedisNotInstalledError) fail(err.message);
      throw err;
    }
  }
  await serve(config, redisUrl, { api: true, worker: true }, log, stopRedis);
  printDevBanner(config, generatedKey ?? '', generatedKey !== undefined, redisUrl);
  if (generatedWebhookSecret) {
    process.stdout.write(
      `Webhooks to ${LOOPBACK_HOSTS} are signed with BATON_WEBHOOK_SECRET=${generatedWebhookSecret} (generated for this session).\n`,
    );
  }
}

async function role(which: 'api' | 'worker'): Promise<void> {
  const config = configOrExit(process.env, which === 'worker');
  if (!config.redisUrl)
    fail(`REDIS_URL is required for "baton ${which}" (baton dev starts its own Redis).`, 2);
  if (which === 'api' && !config.apiKeys?.length && !config.oidc) {
    fail(
      'BATON_API_KEYS is required for "baton api": a comma-separated list of key:role (client, operator, admin) (or BATON_OIDC_ISSUER for access tokens only).',
      2,
    );
  }
  const log = loggerFor(config, which);
  await serve(config, config.redisUrl, { api: which === 'api', worker: which === 'worker' }, log);
}

function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

const program = new Command()
  .name('baton')
  .description('Queue-native, durable multi-agent orchestration service.')
  .version(VERSION);

program
  .command('dev')
  .description('API + worker in one process; starts an embedded redis-server when REDIS_URL is unset')
  .action(dev);
program
  .command('api')
  .description('serve the HTTP API (needs REDIS_URL and BATON_API_KEYS)')
  .action(() => role('api'));
program
  .command('worker')
  .description('run workers for the runs queue (needs REDIS_URL)')
  .action(() => role('worker'));
program
  .command('run')
  .description('submit a run to a running API, follow its progress live and print the result')
  .addOption(
    new Option('-p, --pattern <pattern>', 'orchestration pattern')
      .choices(patternNames)
      .makeOptionMandatory(),
  )
  .requiredOption('-i, --input <file|text>', 'the task: a file path or the text itself')
  .option('-t, --team <team>', 'team name', 'news-desk')
  .option(
    '-o, --option <key=value>',
    'a run option, repeatable (e.g. context=last, maxModelCalls=10)',
    keyValue,
  )
  .option('--api <url>', 'API base URL', process.env.BATON_API_URL ?? 'http://127.0.0.1:3000')
  .option('--key <key>', 'API key (default: $BATON_KEY)', process.env.BATON_KEY)
  .option('--json', 'print the final run record as JSON')
  .action(
    async (opts: {
      pattern: string;
      input: string;
      team: string;
      option?: Record<string, string>;
      api: string;
      key?: string;
      json?: boolean;
    }) => {
      if (!opts.key) fail('an API key is needed: pass --key or set BATON_KEY.', 2);
      const input = existsSync(opts.input) ? readFileSync(opts.input, 'utf8') : opts.input;
      const code = await runCommand({ ...opts, key: opts.key, input, options: opts.option ?? {} });
      process.exit(code);
    },
  );

const teams = program.command('teams').description('team files and the team registry');
teams
  .command('validate')
  .description(
    'check team files (a file, or every team file of a folder) as start-up would; exit 1 when invalid',
  )
  .argument('<file|dir>', 'a team file or a folder of them')
  .action((path: string) => process.exit(validateTeams(path)));
teams
  .command('list')
  .description(
    'print the teams a service would offer: BATON_TEAMS_DIR, and the registry when REDIS_URL is set',
  )
  .action(async () => process.exit(await listTeams()));

program
  .command('eval')
  .description(
    'compare patterns (and team variants) on a team and dataset; writes results.json, report.md and report.html',
  )
  .option('-t, --team <team>', 'team name (default news-desk, or the --dataset team)')
  .option('-d, --dataset <file.jsonl>', "dataset (default: the team's, under evals/datasets/)")
  .option('--split <part>', 'the part of the dataset to score: dev or test (default test)')
  .option('-p, --patterns <a,b>', 'comma-separated patterns (default: every pattern the team supports)')
  .option('--variants <a,b>', 'team variants to compare, e.g. base,concise (base: the team as it is)')
  .option('--repeat <n>', 'runs per case and variant; repeat r uses seed + r')
  .option('--limit <n>', 'first n cases of the dataset')
  .option('--concurrency <n>', 'runs in flight at once (default 8)')
  .option('-o, --option <key=value>', 'a run option for every run, repeatable (e.g. context=last)', keyValue)
  .option('--seed <n>', 'base seed (default 0)')
  .option('--out <dir>', 'output directory (default out/eval-<timestamp>)')
  .option('--experiment <file.yaml>', 'an experiment matrix: patterns × option sets × models')
  .option('--api <url>', 'run through a baton API instead of in-process')
  .option('--key <key>', 'API key for --api (default: $BATON_KEY)')
  .option('--record', "save every run's journal under <out>/recordings/")
  .option('--replay <dir>', 'replay a recorded eval from its journals, with zero model calls')
  .option('--judge', 'also grade every run with the LLM judge (not with --replay)')
  .option(
    '--human-grades <file.jsonl>',
    "people's grades of cases: the judge's agreement with people (with --judge)",
  )
  .option('--baseline <results.json>', 'quality gate: compare with this eval, exit 2 on a significant drop')
  .option('--max-drop <x>', 'quality gate: the largest mean quality drop tolerated (default 0.02)')
  .option(
    '--from-production',
    "compare the team's variants on production runs (online scores, feedback) via --api",
  )
  .option('--since <time>', 'with --from-production: runs graded or given feedback at or after this ISO time')
  .option('--until <time>', 'with --from-production: … and before this ISO time')
  .action(async (opts: EvalFlags) => {
    const { runEvalCommand } = await import('../evals/runner.js');
    process.exit(await runEvalCommand(opts));
  });

const feedback = program.command('feedback').description('feedback on production runs');
feedback
  .command('export')
  .description("turn a team's feedback (and users' corrections) into an eval dataset that baton eval runs")
  .requiredOption('-t, --team <team>', 'team whose feedback to export')
  .requiredOption('--out <cases.jsonl>', 'the dataset file to write')
  .option('--since <time>', 'feedback given at or after this ISO time')
  .option('--until <time>', 'feedback given before this ISO time')
  .option(
    '--grades <grades.jsonl>',
    "also write each case's feedback score as a human grade (--human-grades)",
  )
  .option('--api <url>', 'API base URL', process.env.BATON_API_URL ?? 'http://127.0.0.1:3000')
  .option('--key <key>', 'API key (default: $BATON_KEY)', process.env.BATON_KEY)
  .action(async (opts: Record<string, string>) => {
    const { feedbackExportCommand } = await import('../evals/feedback-export.js');
    process.exit(await feedbackExportCommand(opts));
  });

teams
  .command('deploy <team>')
  .description("provision the team's Foundry agents (model.provider foundry) as Foundry agent versions")
  .addOption(new Option('--to <target>', 'where to deploy').choices(['foundry']).makeOptionMandatory())
  .option('--model <deployment>', 'model deployment for agents whose definition names none')
  .action(async (team: string, opts: { to: string; model?: string }) => {
    const { teamsDeployCommand } = await import('./teams-command.js');
    process.exit(await teamsDeployCommand(team, opts));
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err));
});

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BreakerSnapshot } from '../../policies/breakers.js';
import { patternSchema } from '../../runs/schema.js';
import { describeTeam } from '../../teams/describe.js';
import { definitionVersion } from '../../teams/version.js';
import { agentFleetState, listWorkers } from '../../worker/heartbeat.js';
import type { Caller } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { errorEnvelopeSchema } from '../errors.js';

const teamSchema = z.object({
  name: z.string(),
  description: z.string(),
  version: z.string().describe('The current version: what new runs take (pin it with `teamVersion`).'),
  definitionVersion: z
    .string()
    .describe('Hash of what a run of the current version executes (the version, with operator overrides).'),
  agents: z.array(z.object({ name: z.string(), description: z.string() })),
  variants: z
    .array(z.string())
    .describe('Variants a run may select with `options.variant` (besides `base`).'),
  patterns: z.array(
    z.object({
      pattern: patternSchema,
      wiring: z.unknown(),
      options: z
        .record(z.string(), z.unknown())
        .describe('Options that apply to this pattern, with defaults.'),
    }),
  ),
});

const breakerStateSchema = z.enum(['closed', 'open', 'half-open']);
const lastFailureSchema = z
  .object({ at: z.string(), code: z.string(), message: z.string().optional() })
  .describe('The last failure that counted against the breaker; its message for operators and admins only.');

const agentSchema = z.object({
  team: z.string(),
  name: z.string(),
  description: z.string(),
  model: z.record(z.string(), z.unknown()),
  structuredOutput: z.boolean(),
  handoffs: z.array(z.string()),
  policy: z.object({
    timeoutMs: z.number(),
    retry: z.object({ maxAttempts: z.number(), initialDelayMs: z.number(), maxDelayMs: z.number() }),
    breaker: z.object({ failureThreshold: z.number(), halfOpenAfterMs: z.number() }),
  }),
  breaker: z
    .object({
      state: breakerStateSchema,
      lastFailure: lastFailureSchema.optional(),
    })
    .optional()
    .describe("Circuit-breaker state of the agent's configured model in processes this API can see."),
  fleet: z
    .enum(['closed on all', 'open on some', 'open on all'])
    .describe('Circuit breaker across live workers (half-open counts as open; no workers: closed on all).'),
  workers: z
    .array(
      z.object({
        worker: z.string(),
        state: breakerStateSchema,
        lastFailure: lastFailureSchema.optional(),
      }),
    )
    .optional()
    .describe('Breaker state on each live worker (operators and admins only).'),
});

/** A breaker's last failure as `caller` may see it: clients get the code, never another client's error text. */
function visibleFailure(failure: BreakerSnapshot['lastFailure'], detail: boolean) {
  if (!failure) return {};
  return { lastFailure: detail ? failure : { at: failure.at, code: failure.code } };
}

export const catalogRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/teams',
      {
        schema: {
          operationId: 'listTeams',
          summary: 'List teams',
          description: 'Teams, their agents, the patterns each is wired for and the run option defaults.',
          tags: ['catalog'],
          response: { 200: z.object({ items: z.array(teamSchema) }), 401: errorEnvelopeSchema },
        },
      },
      async () => ({
        items: (await deps.teams.list()).map(({ team, version }) => ({
          ...describeTeam(team),
          version,
          definitionVersion: definitionVersion(team),
        })),
      }),
    );

    app.get(
      '/v1/agents',
      {
        schema: {
          operationId: 'listAgents',
          summary: 'List agents',
          description:
            'Every agent of every team with its model, policies and circuit-breaker state across the worker fleet (per-worker detail for operators and admins).',
          tags: ['catalog'],
          response: { 200: z.object({ items: z.array(agentSchema) }), 401: errorEnvelopeSchema },
        },
      },
      async (request) => {
        const local = deps.localBreakers?.() ?? [];
        const workers = await listWorkers(deps.redis, deps.config.redisPrefix);
        const role = (request.caller as Caller).role;
        const detail = role === 'operator' || role === 'admin';
        const teams = (await deps.teams.list()).map((t) => t.team);
        // Breakers are per agent and model: the view shows the one of the agent's own model.
        return {
          items: teams.flatMap((team) =>
            team.agents.map((a) => {
              const b = local.find((x) => x.agent === a.name && x.configured);
              const fleet = agentFleetState(a.name, workers, true);
              return {
                team: team.name,
                name: a.name,
                description: a.description,
                model: a.model,
                structuredOutput: a.outputSchema !== undefined,
                handoffs: a.handoffs,
                policy: a.policy,
                ...(b ? { breaker: { state: b.state, ...visibleFailure(b.lastFailure, detail) } } : {}),
                fleet: fleet.fleet,
                ...(detail ? { workers: fleet.workers } : {}),
              };
            }),
          ),
        };
      },
    );
  };

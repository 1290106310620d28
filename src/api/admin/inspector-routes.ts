import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { patternNames } from '../../orchestrators/index.js';
import { eventIdSchema, MAX_EVENTS_PER_RUN } from '../../runs/events.js';
import { runKeys } from '../../runs/keys.js';
import { isRunId, type RunRecord, runIdSchema } from '../../runs/schema.js';
import type { Caller } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { followRun } from '../run-events.js';
import type { StreamSlots } from '../streams.js';
import { comparePage, type RunFilters, runLive, runPage, runsPage, STATUSES } from './inspector.js';
import { INSPECTOR_JS } from './inspector-script.js';
import type { Who } from './pages.js';
import type { LooseEvent } from './timeline.js';

/** The run inspector's routes inside the console plugin (its authentication and CSRF hooks apply). */

const PAGE_SIZE = 50;
/** Runs one listing looks at before it stops and offers the next page (filters that match few runs). */
const SCAN_LIMIT = 2_000;

const filterSchema = z.object({
  team: z.string().max(100).optional(),
  pattern: z.string().max(40).optional(),
  status: z.string().max(20).optional(),
  variant: z.string().max(100).optional(),
  owner: z.string().max(200).optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  q: z.string().max(200).optional(),
  cursor: z.string().max(400).optional(),
});

/** A `datetime-local` value (read as UTC) or an ISO time, as ms; undefined when empty or not a time. */
function timeOf(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

function matches(f: RunFilters): (r: RunRecord) => boolean {
  const q = f.q?.trim();
  const [mk, mv] = q?.includes('=') ? q.split('=', 2) : [undefined, undefined];
  return (r) =>
    (!f.team || r.team === f.team) &&
    (!f.pattern || r.pattern === f.pattern) &&
    (!f.variant || r.variant === f.variant) &&
    (!q ||
      r.id.startsWith(q) ||
      (mk !== undefined
        ? r.metadata?.[mk] === mv
        : Object.values(r.metadata ?? {}).some((v) => v.includes(q))));
}

/** A run's events in stream order, read without the event schema: types this version does not know are kept. */
export async function looseEvents(deps: ApiDeps, id: string): Promise<LooseEvent[]> {
  const entries = await deps.redis.xrange(
    runKeys(deps.config.redisPrefix, id).events,
    '-',
    '+',
    'COUNT',
    MAX_EVENTS_PER_RUN,
  );
  const out: LooseEvent[] = [];
  for (const [, fields] of entries) {
    try {
      const e = JSON.parse(fields[1] ?? '') as LooseEvent;
      if (typeof e?.type === 'string' && typeof e.at === 'string') out.push(e);
    } catch {
      // A damaged entry is left out of the picture; the rest of the run still shows.
    }
  }
  return out;
}

export function inspectorRoutes(
  app: FastifyInstance,
  deps: ApiDeps,
  page: {
    who: (request: FastifyRequest, reply: FastifyReply) => Who;
    send: (reply: FastifyReply, body: string, status?: number) => FastifyReply;
    notFound: (request: FastifyRequest, reply: FastifyReply, message: string) => FastifyReply;
  },
  streams: StreamSlots,
) {
  const traceUrl = deps.config.admin.traceUrl;
  const record = async (id: string) => (isRunId(id) ? (await deps.store.get(id))?.record : undefined);

  app.get('/admin/inspector.js', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(INSPECTOR_JS),
  );

  app.get('/admin/runs', { schema: { hide: true, querystring: filterSchema } }, async (request, reply) => {
    const query = request.query as z.infer<typeof filterSchema>;
    const { cursor, ...filters } = query;
    const status = STATUSES.find((s) => s === filters.status);
    const q = filters.q?.trim();
    const teams = (await deps.teams.list()).map((t) => t.team.name).sort();
    let result: { items: RunRecord[]; nextCursor?: string; scanStopped?: boolean };
    if (q && isRunId(q)) {
      const one = await record(q);
      result = { items: one ? [one] : [] };
    } else {
      const from = timeOf(filters.from);
      const to = timeOf(filters.to);
      result = await deps.store.list({
        limit: PAGE_SIZE,
        scanLimit: SCAN_LIMIT,
        ...(status ? { status } : {}),
        ...(filters.owner ? { owner: filters.owner } : {}),
        ...(cursor ? { cursor } : {}),
        ...(from !== undefined ? { createdFrom: from } : {}),
        ...(to !== undefined ? { createdTo: to } : {}),
        where: matches(filters),
      });
    }
    return page.send(
      reply,
      runsPage({
        who: page.who(request, reply),
        filters,
        runs: result.items,
        ...(result.nextCursor ? { next: result.nextCursor } : {}),
        scanStopped: result.scanStopped === true,
        teams,
        patterns: patternNames,
      }),
    );
  });

  app.get(
    '/admin/runs/:id',
    {
      schema: {
        hide: true,
        params: z.object({ id: z.string().max(100) }),
        querystring: z.object({ fragment: z.literal('live').optional() }),
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const run = await record(id);
      if (!run)
        return page.notFound(request, reply, `There is no run "${id}" (or its retention period has passed).`);
      const events = await looseEvents(deps, run.id);
      if ((request.query as { fragment?: string }).fragment === 'live') {
        return page.send(reply, runLive(run, events, traceUrl).value);
      }
      const live = !deps.store.isTerminal(run.status);
      return page.send(
        reply,
        runPage({ who: page.who(request, reply), record: run, events, traceUrl, live }),
      );
    },
  );

  app.get(
    '/admin/runs/:id/events',
    {
      sse: 'manual',
      config: { rateLimit: false },
      schema: {
        hide: true,
        params: z.object({ id: runIdSchema }),
        headers: z.object({ 'last-event-id': eventIdSchema.optional() }).loose(),
      },
    },
    async (request, reply) => {
      const caller = request.caller as Caller;
      const stored = await deps.store.get((request.params as { id: string }).id);
      if (!stored) return page.notFound(request, reply, 'There is no such run.');
      const release = streams.acquire(caller.keyId);
      reply.sse.onClose(release);
      reply.header('cache-control', 'no-cache');
      reply.header('x-accel-buffering', 'no');
      const after = request.headers['last-event-id'];
      const follow = followRun(deps, stored, typeof after === 'string' ? after : '0');
      reply.sse.onClose(() => follow.stop());
      reply.sse.sendHeaders();
      reply.raw.flushHeaders();
      // Unnamed messages: the page's EventSource hears every type, those this version does not know included.
      async function* messages() {
        for await (const m of follow.events) yield { id: m.id, data: { type: m.event, at: m.data.at } };
      }
      try {
        await reply.sse.send(messages());
      } finally {
        follow.stop();
        release();
      }
    },
  );

  app.get(
    '/admin/compare',
    { schema: { hide: true, querystring: z.object({ a: z.string().max(100), b: z.string().max(100) }) } },
    async (request, reply) => {
      const { a, b } = request.query as { a: string; b: string };
      const [ra, rb] = await Promise.all([record(a.trim()), record(b.trim())]);
      if (!ra || !rb) {
        return page.notFound(
          request,
          reply,
          `There is no run "${!ra ? a : b}" (or its retention period has passed).`,
        );
      }
      const [eventsA, eventsB] = await Promise.all([looseEvents(deps, ra.id), looseEvents(deps, rb.id)]);
      return page.send(reply, comparePage({ who: page.who(request, reply), a: ra, b: rb, eventsA, eventsB }));
    },
  );
}

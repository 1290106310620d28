import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { agentNameSchema } from '../../agents/schema.js';
import { teamVersionSchema } from '../../runs/schema.js';
import { type Caller, requireRole } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { errorEnvelopeSchema, notFound } from '../errors.js';

const errors = {
  400: errorEnvelopeSchema,
  401: errorEnvelopeSchema,
  403: errorEnvelopeSchema,
  404: errorEnvelopeSchema,
  409: errorEnvelopeSchema,
};
const nameParams = z.object({ name: agentNameSchema });

const versionSummary = z.object({
  version: z
    .string()
    .describe('Content hash of the resolved document (what runs record as definitionVersion).'),
  source: z.enum(['api', 'file']),
  registeredAt: z.string(),
  registeredBy: z.string().describe('API key id, or `file <path>`.'),
});

const teamRecordSchema = z.object({
  name: z.string(),
  current: versionSummary
    .extend({ document: z.record(z.string(), z.unknown()) })
    .nullable()
    .describe('The version new runs take, with its document; null when the team is retired.'),
  retiredAt: z.string().optional(),
  versions: z.array(versionSummary.extend({ current: z.boolean() })).describe('Every version, oldest first.'),
});

const registeredSchema = z.object({
  name: z.string(),
  version: z.string(),
  created: z.boolean().describe('False when this document was registered before (no new version).'),
  changed: z.boolean().describe('False when this version was current already (nothing changed).'),
  previous: z.string().optional().describe('The version that was current before.'),
});

/** The team registry: register a version, read versions, retire a team. Changes need the admin role. */
export const teamRoutes =
  (deps: ApiDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const adminsOnly = async (request: { caller?: Caller }) => {
      requireRole(request.caller as Caller, ['admin']);
    };

    app.put(
      '/v1/teams/:name',
      {
        preValidation: adminsOnly,
        schema: {
          operationId: 'registerTeam',
          summary: 'Register a team version',
          description:
            'Registers the document (the team file’s content as JSON) as a new immutable version and makes it current; new runs take it, runs in flight keep theirs. An identical document registers nothing (200, the existing version). Admin.',
          tags: ['teams'],
          params: nameParams,
          body: z
            .record(z.string(), z.unknown())
            .describe('A team document: name, description, agents, patterns...'),
          response: { 200: registeredSchema, 201: registeredSchema, ...errors },
        },
      },
      async (request, reply) => {
        const caller = request.caller as Caller;
        const result = await deps.teams.register(request.params.name, request.body, caller.keyId);
        return reply.code(result.created ? 201 : 200).send({ name: request.params.name, ...result });
      },
    );

    app.get(
      '/v1/teams/:name',
      {
        schema: {
          operationId: 'getTeam',
          summary: 'Get a team',
          description: 'The current version with its document, and every earlier version.',
          tags: ['teams'],
          params: nameParams,
          response: { 200: teamRecordSchema, ...errors },
        },
      },
      async (request) => {
        const record = await deps.teams.describe(request.params.name);
        if (!record) throw notFound(`Team "${request.params.name}"`);
        return record;
      },
    );

    app.get(
      '/v1/teams/:name/versions/:version',
      {
        schema: {
          operationId: 'getTeamVersion',
          summary: 'Get a team version',
          description: 'One version of a team with its document, current or not.',
          tags: ['teams'],
          params: nameParams.extend({ version: teamVersionSchema }),
          response: {
            200: versionSummary.extend({ document: z.record(z.string(), z.unknown()), current: z.boolean() }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { name, version } = request.params;
        const found = await deps.teams.describeVersion(name, version);
        if (!found) throw notFound(`Version "${version}" of team "${name}"`);
        const { resolved: _, ...shown } = found;
        return shown;
      },
    );

    app.delete(
      '/v1/teams/:name',
      {
        preValidation: adminsOnly,
        schema: {
          operationId: 'retireTeam',
          summary: 'Retire a team',
          description:
            'New runs can no longer use the team; runs in flight finish on their version. Registering a document again brings it back. Admin.',
          tags: ['teams'],
          params: nameParams,
          response: { 200: z.object({ name: z.string(), retired: z.string() }), ...errors },
        },
      },
      async (request) => {
        const caller = request.caller as Caller;
        const { version } = await deps.teams.retire(request.params.name, caller.keyId);
        return { name: request.params.name, retired: version };
      },
    );
  };

import { z } from 'zod';
import { teamDefinitionSchema } from './schema.js';

/**
 * The JSON Schema of team files (teams/team.schema.json, written by `npm run teams:schema`), for editors:
 * `# yaml-language-server: $schema=./team.schema.json` in a YAML file, or `"$schema"` in a JSON one, gives
 * completion and validation as the file is written. Draft-07, the newest draft yaml-language-server supports;
 * fields with defaults are optional (the input side). The cross-references (unknown agents, duplicate names)
 * and the output schemas' own validity are checked by baton (`baton teams validate`), not by this schema.
 */
export function teamFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(teamDefinitionSchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const meta = z.globalRegistry.get(ctx.zodSchema);
      if (meta?.id !== 'OutputSchema') return;
      // An output schema is itself a JSON Schema: editors are told it is an object and what it is for.
      const target = ctx.jsonSchema as Record<string, unknown>;
      for (const key of Object.keys(target)) delete target[key];
      Object.assign(target, { type: 'object', description: meta.description });
    },
  }) as Record<string, unknown> & { properties: Record<string, unknown> };
  return {
    ...schema,
    title: 'baton team',
    description:
      'One team of agents for baton: its agents, how each pattern wires them, and its output schema.',
    properties: {
      $schema: {
        type: 'string',
        description: 'The JSON Schema of this file (editors only; not part of the team).',
      },
      ...schema.properties,
    },
  };
}

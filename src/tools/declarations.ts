import { z } from 'zod';

/**
 * How a team declares its tools (`tools` in the team document, by name; agents list the names they may use).
 * `kind: human` is the built-in question to a person: the agent asks a free-text question and the run waits,
 * holding no worker, until someone answers over the API (or the request expires).
 */

/** Tool names as models see them: letters, digits, `_` and `-`. */
export const toolNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be letters, digits, "_" or "-", starting with a letter');

export const approvalTimeoutMsSchema = z
  .number()
  .int()
  .min(1_000)
  .max(30 * 24 * 3600 * 1000)
  .describe('How long a request for a person waits before it expires with the default decision (reject).');

export const humanToolSchema = z
  .object({
    kind: z.literal('human'),
    description: z
      .string()
      .min(1)
      .max(2_000)
      .optional()
      .describe('What the model is told the tool is for (default: ask a person a question).'),
    approvalTimeoutMs: approvalTimeoutMsSchema.optional(),
  })
  .strict();
export type HumanToolDeclaration = z.infer<typeof humanToolSchema>;

export const toolDeclarationSchema = z.discriminatedUnion('kind', [humanToolSchema]);
export type ToolDeclaration = z.infer<typeof toolDeclarationSchema>;

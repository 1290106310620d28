import { z } from 'zod';
import { piiKinds } from './pii.js';

/**
 * How a team declares its guardrails (the team document's `guardrails` section). Absent sections take the
 * operator's defaults (BATON_GUARDRAILS_PII); everything else is off unless the team turns it on.
 */

const patternSource = z
  .string()
  .min(1)
  .max(200)
  .refine((source) => {
    try {
      new RegExp(source, 'g');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');

export const piiModes = ['off', 'redact', 'block'] as const;
export type PiiMode = (typeof piiModes)[number];

export const piiGuardrailSchema = z
  .object({
    mode: z
      .enum(piiModes)
      .describe(
        'redact: placeholders go to the model and values come back in the answer; block: refuse the call.',
      ),
    kinds: z
      .array(z.enum(piiKinds))
      .min(1)
      .optional()
      .describe('Which built-in detectors run (default: all of email, phone, card, iban).'),
    phoneRegions: z
      .array(z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 region, e.g. US'))
      .max(16)
      .optional()
      .describe(
        'Regions whose national phone formats are recognised; international (+…) numbers always are.',
      ),
    patterns: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9_]{0,30}$/, 'lower-case letters, digits and underscores')
              .describe('Kind of the value; its placeholders are <NAME_1>, <NAME_2>, …'),
            pattern: patternSource.describe('A regular expression (JavaScript syntax) matching one value.'),
          })
          .strict(),
      )
      .max(16)
      .optional(),
  })
  .strict();
export type PiiGuardrail = z.infer<typeof piiGuardrailSchema>;

export const promptShieldsGuardrailSchema = z
  .object({
    mode: z
      .enum(['off', 'on'])
      .describe('on: Azure AI Content Safety Prompt Shields checks what goes to models.'),
    onAttack: z
      .enum(['block', 'withhold'])
      .default('block')
      .describe(
        'block: the agent call fails with GUARDRAIL_BLOCKED; withhold: a flagged document (tool result) is replaced by a notice and the call goes on (an attack in the user prompt always blocks).',
      ),
    onUnavailable: z
      .enum(['closed', 'open'])
      .default('closed')
      .describe('closed: an unreachable Content Safety blocks the call; open: the call goes on unchecked.'),
  })
  .strict();

export const contentSafetyGuardrailSchema = z
  .object({
    mode: z.enum(['off', 'on']).describe('on: Azure AI Content Safety text analysis checks every answer.'),
    maxSeverity: z
      .number()
      .int()
      .min(0)
      .max(7)
      .default(2)
      .describe('Highest severity an answer may have in any category (hate, self-harm, sexual, violence).'),
    onUnavailable: z.enum(['closed', 'open']).default('closed'),
  })
  .strict();

export const outputGuardrailSchema = z
  .object({
    agents: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('The agents whose answers are checked (default: every agent).'),
    maxChars: z.number().int().min(1).optional().describe('Longest answer, in characters.'),
    forbiddenPhrases: z
      .array(z.string().min(1).max(200))
      .max(64)
      .optional()
      .describe('Phrases no answer may contain (case-insensitive).'),
    forbiddenPatterns: z
      .array(patternSource)
      .max(32)
      .optional()
      .describe('Regular expressions no answer may match.'),
    judge: z
      .object({
        agent: z
          .string()
          .min(1)
          .describe(
            'The team agent that judges answers (its model and instructions); its own answers are not judged.',
          ),
        policy: z.string().min(1).max(4000).describe('The policy every answer must keep, in words.'),
        maxCalls: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(20)
          .describe("The judge's own budget: model calls per run, apart from the run's budgets."),
      })
      .strict()
      .optional()
      .describe('A policy check of each answer by a judge agent.'),
    onFail: z
      .enum(['reask', 'fail'])
      .default('reask')
      .describe('reask: ask the agent once more, naming the rule it broke; fail: GUARDRAIL_BLOCKED.'),
  })
  .strict();
export type OutputGuardrail = z.infer<typeof outputGuardrailSchema>;

export const teamGuardrailsSchema = z
  .object({
    pii: piiGuardrailSchema.optional(),
    promptShields: promptShieldsGuardrailSchema.optional(),
    contentSafety: contentSafetyGuardrailSchema.optional(),
    output: outputGuardrailSchema.optional(),
  })
  .strict();
export type TeamGuardrails = z.infer<typeof teamGuardrailsSchema>;
export type TeamGuardrailsInput = z.input<typeof teamGuardrailsSchema>;

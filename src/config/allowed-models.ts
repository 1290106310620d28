import { z } from 'zod';
import { type ModelProvider, modelNamePattern, modelProviders } from '../core/model.js';

/**
 * `BATON_ALLOWED_MODELS`: the models a run's `options.model` may choose, comma-separated.
 *
 * - `provider`: that provider with its configured default deployment (`azure-openai`, `simulated`);
 * - `provider/deployment`: one deployment, model name or (for `foundry`) Foundry agent (`azure-openai/gpt-4o`);
 * - `provider/*`: any name of that provider (`openai-compatible/*`).
 *
 * Unset: each configured provider's default deployment, and the simulated model. Agents' own models (set by the
 * operator in the team definitions) are always allowed.
 */
export interface AllowedModel {
  provider: ModelProvider;
  /** A deployment name, `*` for any, or absent for the provider's default. */
  model?: string;
}

function parseEntry(entry: string): AllowedModel | undefined {
  const slash = entry.indexOf('/');
  const provider = slash < 0 ? entry : entry.slice(0, slash);
  if (!(modelProviders as readonly string[]).includes(provider)) return undefined;
  if (slash < 0) return { provider: provider as ModelProvider };
  const model = entry.slice(slash + 1);
  if (model !== '*' && !modelNamePattern.test(model)) return undefined;
  return { provider: provider as ModelProvider, model };
}

export const allowedModelsSchema = z.string().transform((raw, ctx): AllowedModel[] => {
  const allowed: AllowedModel[] = [];
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const parsed = parseEntry(entry);
    if (!parsed) {
      ctx.addIssue({
        code: 'custom',
        message: `entry "${entry}" must be provider or provider/deployment or provider/* with provider one of ${modelProviders.join(', ')}`,
      });
      return z.NEVER;
    }
    allowed.push(parsed);
  }
  return allowed;
});

import { RefusedError } from '../core/errors.js';
import type { ModelSettings } from '../core/model.js';
import { type ModelAllowList, modelTargetOf, sameTarget } from '../policies/model-allowlist.js';
import type { TeamDefinition } from '../teams/schema.js';

/**
 * A run's `options.model` overrides every agent's model settings. A client may keep each agent's own model (the
 * operator chose it with the team) or choose one the operator allows; anything else is refused (400) before the
 * run exists. Checked beside the team checks when a run is created.
 */
export function checkModelChoice(
  team: TeamDefinition,
  override: ModelSettings | undefined,
  allowList: ModelAllowList,
): void {
  if (!override) return;
  for (const agent of team.agents) {
    const own = modelTargetOf(agent.model, allowList.defaultProvider);
    const chosen = modelTargetOf({ ...agent.model, ...override }, allowList.defaultProvider);
    if (sameTarget(own, chosen) || allowList.allows(chosen)) continue;
    const name = chosen.model ? `${chosen.provider}/${chosen.model}` : chosen.provider;
    throw new RefusedError(
      'invalid',
      'MODEL_NOT_ALLOWED',
      `The model ${name} is not one this service allows runs to choose.`,
      { model: name, allowed: allowList.describe() },
    );
  }
}

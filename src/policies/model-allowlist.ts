import type { AllowedModel } from '../config/allowed-models.js';
import type { Config } from '../config/index.js';
import { type ModelProvider, type ModelSettings, modelProviders } from '../core/model.js';
import { defaultDeployment, missingProviderConfig } from '../models/router.js';

/**
 * Which models a run may choose with `options.model` (BATON_ALLOWED_MODELS): the API checks each request against
 * it, and the agent runtime checks again before a call (a job from another tool, a list that shrank since).
 */

/** The endpoint a model's settings reach: the provider, and the deployment (Foundry: agent) they name, if any. */
export interface ModelTarget {
  provider: ModelProvider;
  /** Undefined: the provider's configured default (Foundry: the agent's own name). */
  model: string | undefined;
}

export function modelTargetOf(settings: ModelSettings, defaultProvider: ModelProvider): ModelTarget {
  const provider = settings.provider ?? defaultProvider;
  return { provider, model: provider === 'foundry' ? settings.foundryAgent : settings.deployment };
}

export function sameTarget(a: ModelTarget, b: ModelTarget): boolean {
  return a.provider === b.provider && a.model === b.model;
}

export interface ModelAllowList {
  /** The provider that serves settings without a `provider` (BATON_MODEL_PROVIDER). */
  readonly defaultProvider: ModelProvider;
  allows(target: ModelTarget): boolean;
  /** The allowed models as `provider/deployment` (`provider` alone: its default), for error messages. */
  describe(): string[];
}

/** The allow-list of `config`: BATON_ALLOWED_MODELS, else every configured provider with its default deployment. */
export function createModelAllowList(config: Config): ModelAllowList {
  const entries: AllowedModel[] =
    config.allowedModels ??
    modelProviders
      .filter((p) => missingProviderConfig(config, p) === undefined)
      .map((provider) => ({ provider }));
  // A name left out means the provider's default deployment: an entry naming that deployment is the same choice.
  const resolved = (provider: ModelProvider, model: string | undefined) =>
    model ?? defaultDeployment(config, provider);
  return {
    defaultProvider: config.models.provider,
    allows(target) {
      return entries.some(
        (e) =>
          e.provider === target.provider &&
          (e.model === '*' || resolved(e.provider, e.model) === resolved(target.provider, target.model)),
      );
    },
    describe: () => entries.map((e) => (e.model ? `${e.provider}/${e.model}` : e.provider)),
  };
}

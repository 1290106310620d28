import type { Config } from '../config/index.js';
import type { ChatModel, ModelSettings, TokenUsage } from '../core/model.js';
import {
  createProviderRouter,
  defaultDeployment,
  type ModelRouterDeps,
  type ProviderRouter,
} from '../models/router.js';
import { createCostCalculator } from './pricing.js';
import { type DeploymentQuota, QuotaManager, withQuota } from './quota.js';

export interface PolicyRouterDeps extends ModelRouterDeps {
  /** The process-wide quota; default one built from `config.models.quotas`. */
  quota?: QuotaManager;
  /** The fleet's quota over the process's (which it falls back to); without it, the process's own applies. */
  shareQuota?: (local: QuotaManager) => DeploymentQuota;
}

/** The provider router with the process's model policies: every request passes the quota; calls have a price. */
export interface BatonModelRouter extends ProviderRouter {
  /** The provider serving `settings`, created on first use and then reused; every request passes the quota. */
  modelFor(settings: ModelSettings): ChatModel;
  /** The per-process quota (the limits; the fallback of the fleet's quota). */
  readonly quota: QuotaManager;
  /**
   * USD cost of `usage` on `deployment` (undefined deployment: the default provider's default deployment), or
   * `undefined` when no price is configured for it. Shaped like `AgentRuntimeDeps.costOf`.
   */
  costOf(deployment: string | undefined, usage: TokenUsage): number | undefined;
}

export function createModelRouter(config: Config, deps: PolicyRouterDeps = {}): BatonModelRouter {
  const providers = createProviderRouter(config, deps);
  const quota =
    deps.quota ??
    new QuotaManager({
      limits: config.models.quotas,
      maxPauseMs: config.models.retryAfterMaxMs,
      windowMs: config.models.quotaWindowMs,
    });
  const passes = deps.shareQuota ? deps.shareQuota(quota) : quota;
  const price = createCostCalculator(config.models.prices, defaultDeployment(config, config.models.provider));
  const limited = new Map<ChatModel, ChatModel>();
  return {
    ...providers,
    quota,
    modelFor(settings) {
      const model = providers.modelFor(settings);
      let wrapped = limited.get(model);
      if (!wrapped) {
        wrapped = withQuota(model, passes, providers.deploymentFor);
        limited.set(model, wrapped);
      }
      return wrapped;
    },
    costOf: (deployment, usage) => price(deployment, usage),
  };
}

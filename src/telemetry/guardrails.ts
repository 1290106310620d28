import { type Counter, type MeterProvider, metrics } from '@opentelemetry/api';
import type { GuardrailHooks } from '../core/hooks.js';
import { ATTR_GEN_AI_AGENT_NAME, INSTRUMENTATION_SCOPE } from './attributes.js';
import { spanNames, withSpan } from './tracing.js';

/**
 * The telemetry of guardrails: one `baton.guardrail <name>` span per check, carrying the guardrail, the stage, the
 * agent and the outcome (never the content checked), and the `baton.guardrail.checks` counter by outcome, so
 * blocks and redactions are metrics.
 */

export const GUARDRAIL_METRIC = 'baton.guardrail.checks';
export const ATTR_BATON_GUARDRAIL = 'baton.guardrail.name';
export const ATTR_BATON_GUARDRAIL_STAGE = 'baton.guardrail.stage';
export const ATTR_BATON_GUARDRAIL_OUTCOME = 'baton.guardrail.outcome';

let cached: { provider: MeterProvider; checks: Counter } | undefined;

function checks(): Counter {
  const provider = metrics.getMeterProvider();
  if (cached && cached.provider === provider) return cached.checks;
  const checks = provider.getMeter(INSTRUMENTATION_SCOPE).createCounter(GUARDRAIL_METRIC, {
    description: 'Guardrail checks by guardrail, stage and outcome (pass, transform, block, reask).',
    unit: '{check}',
  });
  cached = { provider, checks };
  return checks;
}

export function guardrailTelemetry(): GuardrailHooks {
  return {
    check(info, next) {
      const attributes = {
        [ATTR_BATON_GUARDRAIL]: info.guardrail,
        [ATTR_BATON_GUARDRAIL_STAGE]: info.stage,
        [ATTR_GEN_AI_AGENT_NAME]: info.agent,
      };
      return withSpan(spanNames.guardrail(info.guardrail), { attributes }, async (span) => {
        try {
          const decision = await next();
          span.setAttribute(ATTR_BATON_GUARDRAIL_OUTCOME, decision.outcome);
          checks().add(1, { ...attributes, [ATTR_BATON_GUARDRAIL_OUTCOME]: decision.outcome });
          return decision;
        } catch (err) {
          span.setAttribute(ATTR_BATON_GUARDRAIL_OUTCOME, 'block');
          checks().add(1, { ...attributes, [ATTR_BATON_GUARDRAIL_OUTCOME]: 'block' });
          throw err;
        }
      });
    },
  };
}

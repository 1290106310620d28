import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import {
  ContentFilteredError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../core/errors.js';
import { hashString, seededRandom } from '../core/random.js';
import { parsePrompt } from '../orchestrators/prompt.js';
import type { Skill } from '../simulation/skill.js';
import { defaultSkills } from '../simulation/skills.js';
import type { ChatCallOptions, ChatModel, ChatRequest, ChatResult } from '../core/model.js';

/**
 * The offline model, and the default provider: answers are computed by deterministic skills that read the
 * prompt (same seed and input → same answer), usage is estimated from text length (~4 characters a token),
 * latency and faults are injected as configured. Its name in every record and span is `simulated`.
 */

export const SIMULATED_MODEL_NAME = 'simulated';

export type SimulatedFault =
  | 'transient'
  | 'permanent'
  | 'hang'
  | 'content-filter'
  | { rateLimitedMs: number };

export interface SimulatedModelOptions {
  skills?: Record<string, Skill>;
  /**
   * Decides a fault for one request (tests). `call` counts this model instance's requests from 1. Consulted
   * before the configured random failure and hang rates.
   */
  faults?: (request: ChatRequest, call: number) => SimulatedFault | undefined;
}

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

async function hangUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(abortError(signal));
    signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}

export function createSimulatedModel(
  settings: Config['models']['simulated'],
  options: SimulatedModelOptions = {},
): ChatModel {
  const skills = { ...defaultSkills, ...options.skills };
  let calls = 0;

  const raise = async (fault: SimulatedFault, signal: AbortSignal): Promise<never> => {
    if (fault === 'hang') return hangUntilAborted(signal);
    if (fault === 'transient') throw new TransientModelError('Simulated transient failure (503).');
    if (fault === 'permanent') throw new PermanentModelError('Simulated permanent failure (400).');
    if (fault === 'content-filter') throw new ContentFilteredError('Simulated content filter refusal.');
    throw new RateLimitedError('Simulated rate limit (429).', fault.rateLimitedMs);
  };

  return {
    provider: 'simulated',
    async complete(request: ChatRequest, { signal, onDelta }: ChatCallOptions): Promise<ChatResult> {
      signal.throwIfAborted();
      const call = ++calls;
      const promptText = request.messages.map((m) => m.content).join('\n');
      const faultRandom = seededRandom(hashString(`${request.seed}:${request.agent}:${promptText}`) ^ call);
      const fault =
        options.faults?.(request, call) ??
        (faultRandom() < settings.failureRate
          ? 'transient'
          : faultRandom() < settings.hangRate
            ? 'hang'
            : undefined);

      const [lo, hi] = settings.latencyMs;
      const latency = lo + Math.floor(faultRandom() * (hi - lo + 1));
      if (fault) {
        if (fault !== 'hang' && latency > 0) await sleep(latency / 2, undefined, { signal });
        return raise(fault, signal);
      }

      const skill = request.simulation ? skills[request.simulation.skill] : undefined;
      if (request.simulation && !skill) {
        throw new PermanentModelError(`The simulated model has no skill "${request.simulation.skill}".`);
      }
      const prompt = parsePrompt(request.messages);
      const random = seededRandom(`${request.seed}:${request.agent}:${promptText}`);
      const out = skill
        ? skill({ request, prompt, random })
        : { text: `[simulated ${request.agent}] ${prompt.instruction ?? prompt.task}`.slice(0, 400) };
      const text = out.json !== undefined ? JSON.stringify(out.json) : (out.text ?? '');
      const toolCalls = out.toolCalls ?? [];

      if (onDelta && text) {
        const chunks = text.match(/[\s\S]{1,32}/g) ?? [text];
        for (const chunk of chunks) {
          if (latency > 0) await sleep(latency / chunks.length, undefined, { signal });
          signal.throwIfAborted();
          onDelta(chunk);
        }
      } else if (latency > 0) {
        await sleep(latency, undefined, { signal });
      }
      return {
        message: { role: 'assistant', content: text },
        toolCalls,
        usage: { inputTokens: estimateTokens(promptText), outputTokens: estimateTokens(text) },
        model: SIMULATED_MODEL_NAME,
        finishReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
      };
    },
  };
}

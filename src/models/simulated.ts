import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/index.js';
import {
  ContentFilteredError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../core/errors.js';
import type { ChatCallOptions, ChatModel, ChatRequest, ChatResult, ToolCall } from '../core/model.js';
import { hashString, seededRandom } from '../core/random.js';
import { estimateTokens } from '../core/tokens.js';

/**
 * The offline model, and the default provider. This module is its mechanics: latency, faults, streaming and usage
 * estimated from text length (~4 characters a token). What it answers comes from a `player` — a deterministic
 * function of the request and a seeded random source (same seed and input → same answer) — injected by the
 * composition root (src/simulation/ plays baton's teams and patterns); without one it echoes the request. Its
 * name in every record and span is `simulated`.
 */

export const SIMULATED_MODEL_NAME = 'simulated';

export type SimulatedFault =
  | 'transient'
  | 'permanent'
  | 'hang'
  | 'content-filter'
  | { rateLimitedMs: number };

/** What the simulated model answers to one request. */
export interface SimulatedAnswer {
  /** Plain text answer; when `json` is given the answer is its JSON text. */
  text?: string;
  json?: unknown;
  toolCalls?: ToolCall[];
}

export type SimulatedPlayer = (request: ChatRequest, random: () => number) => SimulatedAnswer;

/** Without a player: the last user message, labelled with the agent. */
const echo: SimulatedPlayer = (request) => {
  const user = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  return { text: `[simulated ${request.agent}] ${user}`.slice(0, 400) };
};

export interface SimulatedModelOptions {
  /** Plays the agents: decides each answer. */
  player?: SimulatedPlayer;
  /**
   * Decides a fault for one request (tests). `call` counts this model instance's requests from 1. Consulted
   * before the configured random failure and hang rates.
   */
  faults?: (request: ChatRequest, call: number) => SimulatedFault | undefined;
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
  const play = options.player ?? echo;
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

      const out = play(request, seededRandom(`${request.seed}:${request.agent}:${promptText}`));
      const full = out.json !== undefined ? JSON.stringify(out.json) : (out.text ?? '');
      const toolCalls = out.toolCalls ?? [];
      // Like a real model, the answer stops at the output cap the request sets.
      const cap = request.model.maxOutputTokens;
      const cut = cap !== undefined && estimateTokens(full) > cap;
      const text = cut ? full.slice(0, cap * 4) : full;

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
        finishReason: cut ? 'length' : toolCalls.length > 0 ? 'tool_calls' : 'stop',
      };
    },
  };
}

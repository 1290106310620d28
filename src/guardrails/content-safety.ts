import type { TokenCredential } from '@azure/identity';
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';

/**
 * A client of Azure AI Content Safety over its REST API: Prompt Shields (`text:shieldPrompt`, a user prompt and
 * documents such as tool results) and text analysis (`text:analyze`, an answer's harm categories and severities).
 * It authenticates with a key (`Ocp-Apim-Subscription-Key`) or, without one, an Entra ID bearer token. Every
 * request has its own timeout, and a breaker stops calling a service that keeps failing; either way the caller
 * gets `ContentSafetyUnavailableError` and applies its fail-open or fail-closed rule.
 */

export const CONTENT_SAFETY_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** The service's limits per request: Prompt Shields takes 10,000 characters of prompt and documents together. */
export const SHIELD_MAX_CHARS = 10_000;
export const ANALYZE_MAX_CHARS = 10_000;

export interface ContentSafetyOptions {
  /** `https://<resource>.cognitiveservices.azure.com` (AZURE_CONTENT_SAFETY_ENDPOINT). */
  endpoint: string;
  /** AZURE_CONTENT_SAFETY_KEY; without it, Entra ID. */
  apiKey?: string | undefined;
  credential?: TokenCredential | undefined;
  apiVersion: string;
  timeoutMs: number;
  breaker: { failureThreshold: number; halfOpenAfterMs: number };
}

export interface ShieldResult {
  userPromptAttack: boolean;
  documentAttacks: boolean[];
}

export interface CategoryAnalysis {
  category: string;
  severity: number;
}

/** Content Safety could not answer (timeout, network, 4xx/5xx, open breaker); never carries the text checked. */
export class ContentSafetyUnavailableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ContentSafetyUnavailableError';
  }
}

export class ContentSafetyClient {
  private readonly breaker;
  /** Entra ID (no key): the given credential, else DefaultAzureCredential, whose SDK is loaded on first use. */
  private credential: Promise<TokenCredential> | undefined;

  constructor(private readonly options: ContentSafetyOptions) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breaker.failureThreshold),
    });
  }

  async shieldPrompt(userPrompt: string, documents: string[], signal: AbortSignal): Promise<ShieldResult> {
    const body = (await this.post('text:shieldPrompt', { userPrompt, documents }, signal)) as {
      userPromptAnalysis?: { attackDetected?: boolean };
      documentsAnalysis?: { attackDetected?: boolean }[];
    };
    return {
      userPromptAttack: body.userPromptAnalysis?.attackDetected === true,
      documentAttacks: documents.map((_, i) => body.documentsAnalysis?.[i]?.attackDetected === true),
    };
  }

  async analyzeText(text: string, signal: AbortSignal): Promise<CategoryAnalysis[]> {
    const body = (await this.post(
      'text:analyze',
      { text: text.slice(0, ANALYZE_MAX_CHARS), outputType: 'EightSeverityLevels' },
      signal,
    )) as { categoriesAnalysis?: { category?: string; severity?: number }[] };
    return (body.categoriesAnalysis ?? []).map((c) => ({
      category: String(c.category ?? 'unknown'),
      severity: Number(c.severity ?? 0),
    }));
  }

  private async post(operation: string, payload: unknown, signal: AbortSignal): Promise<unknown> {
    try {
      return await this.breaker.execute(() => this.request(operation, payload, signal));
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof ContentSafetyUnavailableError) throw err;
      if (err instanceof BrokenCircuitError) {
        throw new ContentSafetyUnavailableError(
          'Content Safety is unavailable: its circuit breaker is open.',
        );
      }
      throw new ContentSafetyUnavailableError(`Content Safety request failed: ${(err as Error).name}.`);
    }
  }

  private async request(operation: string, payload: unknown, signal: AbortSignal): Promise<unknown> {
    const url = new URL(`contentsafety/${operation}`, withSlash(this.options.endpoint));
    url.searchParams.set('api-version', this.options.apiVersion);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers['Ocp-Apim-Subscription-Key'] = this.options.apiKey;
    else {
      this.credential ??= this.options.credential
        ? Promise.resolve(this.options.credential)
        : import('@azure/identity').then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
      const token = await (await this.credential).getToken(CONTENT_SAFETY_SCOPE, { abortSignal: signal });
      if (!token) throw new ContentSafetyUnavailableError('No Entra ID token for Content Safety.');
      headers.authorization = `Bearer ${token.token}`;
    }
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload),
        signal: AbortSignal.any([signal, timeout]),
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new ContentSafetyUnavailableError(
        timeout.aborted
          ? `Content Safety did not answer within ${this.options.timeoutMs} ms.`
          : `Content Safety is unreachable: ${(err as Error).message}`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ContentSafetyUnavailableError(
        `Content Safety answered HTTP ${response.status}.`,
        response.status,
      );
    }
    return response.json();
  }
}

function withSlash(endpoint: string): string {
  return endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
}

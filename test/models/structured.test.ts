import { describe, expect, it } from 'vitest';
import {
  ContentFilteredError,
  PermanentModelError,
  RateLimitedError,
  TransientModelError,
} from '../../src/core/errors.js';
import { mapHttpFailure, retryAfterMs } from '../../src/models/provider-errors.js';
import { checkStructuredAnswer, isStrictCompatible, strictFlag } from '../../src/models/structured.js';
import { answerSchema } from './helpers.js';

describe('structured output helpers', () => {
  it('strict mode only for schemas whose objects require every property and forbid others, at every depth', () => {
    expect(isStrictCompatible(answerSchema)).toBe(true);
    expect(isStrictCompatible({ ...answerSchema, required: ['title'] })).toBe(false);
    expect(isStrictCompatible({ ...answerSchema, additionalProperties: undefined })).toBe(false);
    const nested = {
      type: 'object',
      properties: {
        items: { type: 'array', items: { type: 'object', properties: { a: { type: 'string' } } } },
      },
      required: ['items'],
      additionalProperties: false,
    };
    expect(isStrictCompatible(nested)).toBe(false);
    const viaDefs = {
      type: 'object',
      properties: { p: { $ref: '#/$defs/P' } },
      required: ['p'],
      additionalProperties: false,
      $defs: {
        P: {
          type: 'object',
          properties: { x: { type: 'number' } },
          required: [],
          additionalProperties: false,
        },
      },
    };
    expect(isStrictCompatible(viaDefs)).toBe(false);
    expect(strictFlag({ name: 'a', schema: answerSchema, strict: false })).toBe(false);
    expect(strictFlag({ name: 'a', schema: answerSchema, strict: true })).toBe(true);
  });

  it('checks answers against the JSON Schema: syntax, required keys, types', () => {
    expect(checkStructuredAnswer('{"title":"t","score":2,"tags":["a"]}', answerSchema)).toEqual({
      ok: true,
      json: '{"title":"t","score":2,"tags":["a"]}',
    });
    const syntax = checkStructuredAnswer('{"title":', answerSchema);
    expect(syntax.ok).toBe(false);
    expect(!syntax.ok && syntax.problem).toMatch(/^it is not valid JSON/);
    const missing = checkStructuredAnswer('{"title":"t","tags":[]}', answerSchema);
    expect(!missing.ok && missing.problem).toMatch(/score/);
    const wrongType = checkStructuredAnswer('{"title":"t","score":0.5,"tags":[]}', answerSchema);
    expect(wrongType.ok).toBe(false);
  });

  it('accepts valid JSON wrapped in a Markdown fence, unwrapped', () => {
    const fenced = '```json\n{"title":"t","score":2,"tags":[]}\n```';
    expect(checkStructuredAnswer(fenced, answerSchema)).toEqual({
      ok: true,
      json: '{"title":"t","score":2,"tags":[]}',
    });
  });
});

describe('HTTP failure mapping', () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('reads retry-after-ms first, then retry-after seconds or date', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '1234.5', 'retry-after': '9' }))).toBe(1235);
    expect(retryAfterMs(headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now)).toBe(7000);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(headers({}))).toBeUndefined();
  });

  it('maps statuses and bodies to typed errors', () => {
    const base = { message: 'm', provider: 'azure-openai' };
    expect(mapHttpFailure({ ...base, status: 429, headers: headers({ 'retry-after': '1' }) })).toBeInstanceOf(
      RateLimitedError,
    );
    for (const status of [408, 409, 500, 502, 503, 504, undefined]) {
      expect(mapHttpFailure({ ...base, status })).toBeInstanceOf(TransientModelError);
    }
    for (const status of [400, 401, 403, 404, 422]) {
      expect(mapHttpFailure({ ...base, status })).toBeInstanceOf(PermanentModelError);
    }
    expect(
      mapHttpFailure({
        ...base,
        status: 400,
        body: { error: { code: 'content_filter', message: 'filtered' } },
      }),
    ).toBeInstanceOf(ContentFilteredError);
    expect(
      mapHttpFailure({
        ...base,
        status: 400,
        body: { error: { code: 'invalid_prompt', innererror: { code: 'ResponsibleAIPolicyViolation' } } },
      }),
    ).toBeInstanceOf(ContentFilteredError);
  });
});

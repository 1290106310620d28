import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BatonError, type Refusal, RefusedError } from '../core/errors.js';

/** The error envelope of every non-2xx answer: a stable code for programs and a sentence for people. */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable, machine-readable code, e.g. VALIDATION_FAILED.'),
    message: z.string().describe('One human sentence.'),
    details: z.unknown().optional(),
  }),
});

/** An error the API answers with `status`; thrown from handlers and hooks. */
export class ApiError extends BatonError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

/** The HTTP status of each reason the lifecycle (or a registry) refuses a request. */
const refusalStatus: Record<Refusal, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  limited: 429,
  unavailable: 503,
};

export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} was not found.`);

interface Issue {
  path: string;
  message: string;
}

function validationIssues(error: FastifyError): Issue[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [];
  return error.validation.map((v) => {
    const segments = v.instancePath.split('/').filter(Boolean);
    const path = [error.validationContext ?? 'body', ...segments].join('.');
    const keys = (v.params as { keys?: string[] }).keys;
    const message =
      v.keyword === 'unrecognized_keys' && keys
        ? `has unknown field(s) ${keys.map((k) => `"${k}"`).join(', ')}`
        : (v.message ?? 'is invalid').replace(/^Invalid input: /, '');
    return { path, message };
  });
}

const fastifyCodes: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'The request body is too large.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Send the body as application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_JSON', message: 'The JSON body is empty.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'INVALID_REQUEST',
    message: 'The Content-Length header does not match the body.',
  },
};

/** Maps every error to the envelope; never leaks internals (5xx answers say only that something failed). */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ApiError) {
    const wait = error.details?.retryAfterSeconds;
    if (typeof wait === 'number') reply.header('retry-after', String(wait));
    return reply.status(error.status).send({ error: error.toJSON() });
  }
  if (error instanceof RefusedError) {
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.status(refusalStatus[error.refusal]).send({ error: error.toJSON() });
  }
  const issues = validationIssues(error);
  if (issues.length > 0) {
    const sentence = issues.map((i) => `${i.path} ${i.message}`).join('; ');
    return reply.status(400).send({
      error: {
        code: 'VALIDATION_FAILED',
        message: `The request is invalid: ${sentence}.`,
        details: { issues },
      },
    });
  }
  const known = error.code ? fastifyCodes[error.code] : undefined;
  if (known) return reply.status(known.status).send({ error: { code: known.code, message: known.message } });
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return reply
      .status(400)
      .send({ error: { code: 'INVALID_JSON', message: 'The body is not valid JSON.' } });
  }
  if (error.statusCode === 429) {
    return reply.status(429).send({ error: { code: 'RATE_LIMITED', message: error.message } });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return reply
      .status(error.statusCode)
      .send({ error: { code: error.code ?? 'BAD_REQUEST', message: error.message } });
  }
  request.log.error({ err: error }, 'request failed');
  return reply
    .status(500)
    .send({ error: { code: 'INTERNAL', message: 'The server could not handle the request.' } });
}

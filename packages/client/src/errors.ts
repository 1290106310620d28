/** What the baton API answered for a failed request: the error envelope's code and sentence, and the status. */
export class BatonApiError extends Error {
  override readonly name = 'BatonApiError';
  constructor(
    /** Stable, machine-readable code, e.g. `VALIDATION_FAILED`, `UNAUTHORIZED`, `NOT_FOUND`, `RATE_LIMITED`. */
    readonly code: string,
    /** The HTTP status. */
    readonly status: number,
    message: string,
    readonly details: unknown,
    /** The `x-request-id` of the failed request (quote it when asking the operators). */
    readonly requestId: string | undefined,
  ) {
    super(message);
  }
}

/** The service could not be reached (network error), even after the retries. */
export class BatonConnectionError extends Error {
  override readonly name = 'BatonConnectionError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** `runs.wait` gave up before the run finished. */
export class BatonTimeoutError extends Error {
  override readonly name = 'BatonTimeoutError';
}

/** The error a failed response carries, from its JSON envelope when it has one. */
export async function errorFrom(response: Response): Promise<BatonApiError> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  let code = `HTTP_${response.status}`;
  let message = `The baton API answered ${response.status} ${response.statusText}.`;
  let details: unknown;
  try {
    const body = (await response.json()) as {
      error?: { code?: unknown; message?: unknown; details?: unknown };
    };
    if (typeof body.error?.code === 'string') code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message;
    details = body.error?.details;
  } catch {
    // Not JSON: keep the status line.
  }
  return new BatonApiError(code, response.status, message, details, requestId);
}

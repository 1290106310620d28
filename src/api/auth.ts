import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiRole } from '../config/index.js';
import { ApiError } from './errors.js';

/** Who called: the role, and `keyId`, a hash of the key that owns the runs it creates (never the key itself). */
export interface Caller {
  role: ApiRole;
  keyId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * The configured API keys, held as SHA-256 digests. A presented key is hashed and compared with every digest
 * in constant time, so neither timing nor an early exit tells how close a guess was.
 */
export class ApiKeys {
  private readonly entries: { digest: Buffer; role: ApiRole; keyId: string }[];

  constructor(keys: readonly { key: string; role: ApiRole }[]) {
    this.entries = keys.map(({ key, role }) => {
      const d = digest(key);
      return { digest: d, role, keyId: d.toString('hex').slice(0, 16) };
    });
  }

  /** The configured keys as callers (key id and role), never the keys. */
  callers(): Caller[] {
    return this.entries.map(({ role, keyId }) => ({ role, keyId }));
  }

  identify(presented: string): Caller | undefined {
    const d = digest(presented);
    let found: Caller | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(d, entry.digest) && !found) found = { role: entry.role, keyId: entry.keyId };
    }
    return found;
  }

  /** Reads `Authorization: Bearer <key>`; throws 401 when missing or unknown. */
  authenticate(request: FastifyRequest): Caller {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new ApiError(401, 'UNAUTHORIZED', 'Send an API key as "Authorization: Bearer <key>".');
    }
    const caller = this.identify(match[1]);
    if (!caller) throw new ApiError(401, 'UNAUTHORIZED', 'The API key is not valid.');
    return caller;
  }
}

/** Operators and admins see every run; a client sees only the runs created with its own key. */
export function seesAllRuns(caller: Caller): boolean {
  return caller.role === 'operator' || caller.role === 'admin';
}

export function requireRole(caller: Caller, roles: readonly ApiRole[]): void {
  if (!roles.includes(caller.role)) {
    throw new ApiError(403, 'FORBIDDEN', `This needs one of the roles: ${roles.join(', ')}.`);
  }
}

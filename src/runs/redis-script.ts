import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script bound to its text: called with a connection, its keys and its arguments. */
export type RedisScript = (
  redis: Redis,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

/**
 * A Lua script sent by its SHA1: the text goes over the wire (and through Redis's parser) only when the server does
 * not have it cached yet — after a restart or a failover, or on first use.
 */
export function redisScript(lua: string): RedisScript {
  const sha = createHash('sha1').update(lua).digest('hex');
  return async (redis, keys, args) => {
    try {
      return await redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(lua, keys.length, ...keys, ...args);
    }
  };
}

/** A hash as `HGETALL` inside a script returns it (a flat list of fields and values), as an object. */
export function fieldsOf(flat: string[] = []): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

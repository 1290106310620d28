/**
 * Whether a parsed JSON value nests objects or arrays more than `maxDepth` levels deep (a scalar is depth 0,
 * `{}` and `[]` are depth 1). Walks with an explicit stack, never recursion, so a hostile value nested thousands
 * of levels deep is measured instead of overflowing the call stack; it stops at the first path that is too deep.
 */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

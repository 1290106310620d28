import { type RoleOptions, startServiceRole } from './service.js';

/**
 * One role of the bench service (API or worker) in its own process, forked by `startBenchService`: started from
 * the JSON options in its argument; answers `cpu` with its CPU usage and exits on `close`.
 */
const options = JSON.parse(process.argv[2] ?? '{}') as RoleOptions;
const role = await startServiceRole(options);
process.send?.({ type: 'ready', base: role.base });
process.on('message', async (m: { type: string }) => {
  if (m.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
  if (m.type === 'close') {
    await role.close();
    process.exit(0);
  }
});
// The bench that forked this process is gone (stopped or crashed): do not outlive it.
process.on('disconnect', () => process.exit(1));

/**
 * Writes teams/team.schema.json from the team schema (`npm run teams:schema`). A test fails when the checked-in
 * file differs from what this writes.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { teamFileJsonSchema } from '../src/teams/json-schema.js';

const file = fileURLToPath(new URL('../teams/team.schema.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(teamFileJsonSchema(), null, 2)}\n`);
// Formatted as the rest of the repository is, so `npm run lint` stays green.
execFileSync(
  fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url)),
  ['format', '--write', file],
  {
    stdio: 'ignore',
  },
);
process.stdout.write(`wrote ${file}\n`);

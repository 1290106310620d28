import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLIENT_TYPES, clientTypes, openApiDocument } from './openapi-document.js';

/** `npm run client:types`: regenerates packages/client/src/openapi.ts from the API's OpenAPI document. */
const types = await clientTypes(await openApiDocument());
writeFileSync(CLIENT_TYPES, types);
process.stdout.write(`wrote ${fileURLToPath(CLIENT_TYPES)}\n`);

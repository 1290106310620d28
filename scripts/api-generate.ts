import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CLIENT_TYPES,
  clientTypes,
  documentText,
  OPENAPI_DOCUMENT,
  openApiDocument,
} from './openapi-document.js';

/** `npm run api:generate`: writes docs/openapi.json and the client's types from the API as it is. */
const document = await openApiDocument();
writeFileSync(OPENAPI_DOCUMENT, documentText(document));
writeFileSync(CLIENT_TYPES, await clientTypes(document));
process.stdout.write(`wrote ${fileURLToPath(OPENAPI_DOCUMENT)} and ${fileURLToPath(CLIENT_TYPES)}\n`);

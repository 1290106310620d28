import type { components, paths } from './openapi.js';

/** The API's types, from its OpenAPI document (./openapi.ts is generated; these names are the client's). */

type Schemas = components['schemas'];
type JsonBody<T> = T extends { content: { 'application/json': infer B } } ? B : never;

export type RunRecord = Schemas['RunRecord'];
/** A run to create. Fields with defaults (such as `team`) may be left out. */
export type RunRequest = Schemas['RunRequestInput'];
export type RunEvent = Schemas['RunEvent'];
/** The body of a webhook delivery (verify its signature with `verifyWebhook` first). */
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type RunEventType = RunEvent['type'];
export type RunStatus = RunRecord['status'];
export type FeedbackEntry = Schemas['FeedbackEntry'];
export type Feedback = JsonBody<paths['/v1/runs/{id}/feedback']['post']['requestBody']>;
/** An answer to a pending request of a waiting run: an approval decision, or an answer to a question. */
export type InputAnswer = JsonBody<paths['/v1/runs/{id}/input']['post']['requestBody']>;
/** An answer without its request id: `{ decision, arguments?, comment? }` or `{ answer }`. */
export type InputReply = InputAnswer extends infer A
  ? A extends unknown
    ? Omit<A, 'requestId'>
    : never
  : never;
export type InputAccepted = JsonBody<paths['/v1/runs/{id}/input']['post']['responses'][202]>;
export type PendingInput = NonNullable<RunRecord['pending']>[number];
export type RunList = JsonBody<paths['/v1/runs']['get']['responses'][200]>;
export type RunListQuery = NonNullable<paths['/v1/runs']['get']['parameters']['query']>;
export type TeamList = JsonBody<paths['/v1/teams']['get']['responses'][200]>;
export type Team = TeamList['items'][number];
export type TeamRecord = JsonBody<paths['/v1/teams/{name}']['get']['responses'][200]>;
export type TeamVersion = JsonBody<paths['/v1/teams/{name}/versions/{version}']['get']['responses'][200]>;
/** What registering a document did: a new version (`created`), or the one it already was. */
export type TeamRegistration = JsonBody<paths['/v1/teams/{name}']['put']['responses'][201]>;
export type TeamRetirement = JsonBody<paths['/v1/teams/{name}']['delete']['responses'][200]>;
/** A team document (the team file's content as JSON). */
export type TeamDocument = Record<string, unknown>;

/** A run event with the id of its message on the stream (give it back as `lastEventId` to resume after it). */
export type StreamedEvent = RunEvent & { readonly eventId: string };

export const terminalStatuses: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const terminalEventTypes: readonly RunEventType[] = ['run.completed', 'run.failed', 'run.cancelled'];

export { BatonClient, type BatonClientOptions } from './client.js';
export { BatonApiError, BatonConnectionError, BatonTimeoutError } from './errors.js';
export type { CallOptions, CreateOptions, WaitOptions } from './runs.js';
export type { StreamOptions } from './stream.js';
export type { TeamCallOptions } from './teams.js';
export * from './types.js';
export { signWebhook, type VerifyOptions, verifyWebhook } from './webhooks.js';

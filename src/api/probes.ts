/**
 * The HTTP paths the platform probes. The API serves them without authentication; the Dockerfile
 * `HEALTHCHECK`, the Container Apps liveness/readiness probes and the infrastructure tests use the same
 * constants, so a route rename cannot silently break a deployment.
 */

/** Liveness: the process is up and its event loop answers. Never depends on Redis or a model. */
export const LIVENESS_PATH = '/healthz';

/** Readiness: the API can take work (Redis reachable, queue open). Failing it removes the replica from load balancing. */
export const READINESS_PATH = '/readyz';

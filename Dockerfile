# syntax=docker/dockerfile:1
#
# One image for both roles of baton:
#   docker run IMAGE          -> `baton api`    (HTTP API on $PORT, default 3000)
#   docker run IMAGE worker   -> `baton worker` (BullMQ consumer of the `runs` queue)
#
# Base image: Node 22 LTS on Debian bookworm-slim, pinned to an exact release tag.
# - Node 22 is an LTS line that every pinned dependency supports. Node 20, the floor for local development and
#   CI (package.json engines), reached end of life in April 2026, so the container runs the newer LTS.
# - bookworm-slim (glibc) rather than alpine (musl): native optional packages such as msgpackr-extract
#   (pulled in by bullmq) ship glibc prebuilds, and the slim variant keeps the image small.
# - An exact patch tag (not `22`, never `latest`) makes builds reproducible; bump it deliberately, e.g.
#   with Dependabot/Renovate. For byte-for-byte reproducibility, append the digest: `node:<tag>@sha256:...`.
ARG NODE_VERSION=22.22.2

# ---------------------------------------------------------------------------------------------------------
# build: all dependencies (dev included) and `tsc` to dist/
# ---------------------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# `npm ci` installs exactly what package-lock.json says. On the development machines the reachable registry
# lacks some non-Linux optional packages, so local development uses `npm install`; in Docker, with the
# public registry, `npm ci` works. npm does not run install scripts here; nothing in the stack needs them.
COPY package.json package-lock.json ./
# The client SDK is an npm workspace: its manifest must be in place for `npm ci` to link it.
COPY packages/client/package.json ./packages/client/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---------------------------------------------------------------------------------------------------------
# runtime: production dependencies and the compiled output only, running as the unprivileged `node` user
# ---------------------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# `baton run` and the eval's API backend use the client SDK.
COPY --from=build /app/packages/client/dist ./packages/client/dist
# The shipped team files (BATON_TEAMS_DIR defaults to this folder, found next to package.json).
COPY --from=build /app/teams ./teams
# Code stays owned by root (read-only for the app); only the data directory is writable by the app user.
RUN mkdir -p /app/.baton && chown node:node /app/.baton

# `node` (uid 1000) ships with the official image.
USER node
EXPOSE 3000

# The slim image has no curl: probe with Node's built-in fetch. Only the api role serves HTTP; compose
# disables this check for the worker, and Azure Container Apps ignores it (it uses its own probes).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The telemetry preload must run before any application module (it installs the OpenTelemetry SDK). A young
# generation of 8 MB semi-spaces (Node's default is 16): a worker with 1,000 runs in flight peaks at ~190 MB instead
# of ~235 MB, at no CPU cost measured (docs/benchmarks.md, `npm run bench:memory`).
ENTRYPOINT ["node", "--max-semi-space-size=8", "--import", "./dist/src/telemetry/preload.js", "dist/src/cli.js"]
CMD ["api"]

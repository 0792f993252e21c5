# syntax=docker/dockerfile:1.7
# Conductor image: build with Nx in a full workspace, run only the webpack bundle
# with its production dependencies. Build from the repo root:
#   docker build -f docker/conductor.Dockerfile -t agent-conductor/conductor:latest .

FROM node:22-bookworm-slim AS build
WORKDIR /workspace
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
# package.json#allowScripts is an npm 11 feature; npm 10 (bundled with Node 20)
# would run every install script instead of the allow-listed ones.
RUN npm install -g npm@11.19.1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nx.json tsconfig.base.json tsconfig.json prisma.config.ts ./
COPY proto ./proto
COPY prisma ./prisma
COPY libs ./libs
COPY apps ./apps
COPY tools/scripts ./tools/scripts
COPY tools/infra-tests/src ./tools/infra-tests/src
RUN npx nx build conductor --outputStyle=static
# generatePackageJson misses packages required only by generated code (the
# Prisma client runtime); add them at the workspace's versions and re-lock.
RUN npx tsx tools/infra-tests/src/complete-runtime-deps.ts dist/apps/conductor

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CONDUCTOR_GRPC_LISTEN_ADDR=0.0.0.0:50051 \
    CONDUCTOR_HTTP_PORT=8080 \
    CONDUCTOR_RUN_DIR=/var/lib/conductor/run \
    RESULTS_DIR=/var/lib/conductor/results
# The incident evidence charts (docs/incident-evidence.md) label their axes in DejaVu Sans; without a font resvg
# draws the lines and no text.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /workspace/dist/apps/conductor/package.json /workspace/dist/apps/conductor/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /workspace/dist/apps/conductor/main.js ./main.js
# Uploaded archives are extracted in a worker thread that loads this file.
COPY --from=build /workspace/dist/apps/conductor/archive-extraction.worker.js ./archive-extraction.worker.js
# The one-shot db-roles task: `node db-roles.js` (terraform/ecs.tf).
COPY --from=build /workspace/dist/apps/conductor/db-roles.js ./db-roles.js
COPY --from=build /workspace/dist/apps/conductor/proto ./proto
# The operator console's static files, served at / (apps/console-ui).
COPY --from=build /workspace/dist/apps/conductor/console ./console
RUN mkdir -p /var/lib/conductor/run /var/lib/conductor/results && chown -R node:node /var/lib/conductor
USER node
EXPOSE 50051 8080
# Liveness only: /health/live answers 200 while the process serves HTTP. Not
# /health/ready: that answers 503 while Postgres is down, and ECS would replace a
# container whose check fails — killing a conductor that is meant to ride out
# the outage (and orphaning its workers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CONDUCTOR_HTTP_PORT || '8080') + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM must reach node itself (exec form, no shell) so the shutdown gate drains.
CMD ["node", "main.js"]

# syntax=docker/dockerfile:1.7
# Worker image: the agent's container. It holds the worker bundle plus what an
# agent needs to work on a repository: git, the codex CLI and common build tools.
# Build from the repo root:
#   docker build -f docker/worker.Dockerfile -t agent-conductor/worker:latest .

FROM node:20-bookworm-slim AS build
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
RUN npx nx build worker --outputStyle=static
RUN npx tsx tools/infra-tests/src/complete-runtime-deps.ts dist/apps/worker

FROM node:20-bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      git openssh-client ca-certificates curl jq ripgrep build-essential python3 \
 && rm -rf /var/lib/apt/lists/*
# Same version as the @openai/codex the SDK pins, so SDK and CLI speak one event stream.
RUN npm install -g @openai/codex@0.163.0 && npm cache clean --force
ENV NODE_ENV=production \
    WORK_DIR=/work
WORKDIR /app
COPY --from=build /workspace/dist/apps/worker/package.json /workspace/dist/apps/worker/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /workspace/dist/apps/worker/main.js ./main.js
COPY --from=build /workspace/dist/apps/worker/proto ./proto
RUN mkdir -p /work && chown node:node /work
USER node
# No HEALTHCHECK: a worker is a one-shot ECS task, not a service. ECS never
# replaces it on a failed check, and liveness is judged by the conductor through
# gRPC heartbeats (orphan handling), which a container check would only duplicate.
CMD ["node", "/app/main.js"]

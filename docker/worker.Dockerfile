# syntax=docker/dockerfile:1.7
# Worker image: the agent's container. It holds the worker bundle plus what an
# agent needs to work on a repository: git, the codex CLI and common build tools.
# Build from the repo root:
#   docker build -f docker/worker.Dockerfile -t agent-conductor/worker:latest .

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
RUN npx nx build worker --outputStyle=static
RUN npx tsx tools/infra-tests/src/complete-runtime-deps.ts dist/apps/worker

FROM node:22-bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      git openssh-client ca-certificates curl jq ripgrep build-essential python3 tini \
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
# The agent's identity (AGENT_UID/AGENT_GID). The worker needs no passwd entry for it, but tools the agent runs
# (ssh, whoami, some package managers) want a name and a home to look up.
RUN groupadd --system --gid 10001 agent \
 && useradd --system --uid 10001 --gid agent --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin agent \
 && mkdir -p /work && chmod 0755 /work
ENV AGENT_UID=10001 \
    AGENT_GID=10001
# The worker runs as root, and only so that it can start the agent as AGENT_UID (setpriv), hand it the work dir
# (chown) and kill what the agent leaves running before it uses the GitHub token. Fargate cannot give a non-root
# user CAP_SETUID/CAP_SETGID/CAP_CHOWN/CAP_KILL (it allows adding SYS_PTRACE only), so a non-root worker could not
# separate itself from the agent at all. The agent itself never runs as root. See docs/security.md.
USER root
# tini as PID 1 reaps the zombies of agent processes the worker kills and never waited for.
ENTRYPOINT ["/usr/bin/tini", "--"]
# No HEALTHCHECK: a worker is a one-shot ECS task, not a service. ECS never
# replaces it on a failed check, and liveness is judged by the conductor through
# gRPC heartbeats (orphan handling), which a container check would only duplicate.
CMD ["node", "/app/main.js"]

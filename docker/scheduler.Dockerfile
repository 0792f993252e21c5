# syntax=docker/dockerfile:1.7
# Scheduler image. Build from the repo root:
#   docker build -f docker/scheduler.Dockerfile -t agent-conductor/scheduler:latest .

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
RUN npx nx build scheduler --outputStyle=static
# generatePackageJson misses packages required only by generated code (the
# Prisma client runtime); add them at the workspace's versions and re-lock.
RUN npx tsx tools/infra-tests/src/complete-runtime-deps.ts dist/apps/scheduler

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SCHEDULER_GRPC_LISTEN_ADDR=0.0.0.0:50052 \
    SCHEDULER_HTTP_PORT=8081
WORKDIR /app
COPY --from=build /workspace/dist/apps/scheduler/package.json /workspace/dist/apps/scheduler/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /workspace/dist/apps/scheduler/main.js ./main.js
COPY --from=build /workspace/dist/apps/scheduler/proto ./proto
USER node
# 8081: /health/live, /health/ready and /metrics.
EXPOSE 50052 8081
# A TCP connect to the gRPC port proves the service itself listens (the HTTP
# side could be up without it), with no gRPC health service or grpcurl binary.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const a = process.env.SCHEDULER_GRPC_LISTEN_ADDR || '0.0.0.0:50052'; const s = require('node:net').connect(Number(a.slice(a.lastIndexOf(':') + 1)), '127.0.0.1'); s.setTimeout(4000, () => process.exit(1)); s.on('connect', () => { s.end(); process.exit(0); }); s.on('error', () => process.exit(1));"]
CMD ["node", "main.js"]

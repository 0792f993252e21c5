# syntax=docker/dockerfile:1.7
# One-shot migration image: `prisma migrate deploy` against DATABASE_URL, run as
# its own ECS task before the services roll (never from an app's entrypoint).
# Build from the repo root:
#   docker build -f docker/migrate.Dockerfile -t agent-conductor/migrate:latest .

FROM node:22-bookworm-slim AS build
WORKDIR /workspace
COPY package.json package-lock.json ./
# Only the Prisma CLI is needed, at the exact version the workspace locked;
# prisma.config.ts imports prisma/config, which ships in the same package.
RUN node -e "const lock = require('./package-lock.json'); const v = lock.packages['node_modules/prisma'].version; require('node:fs').writeFileSync('/tmp/migrate-package.json', JSON.stringify({ name: 'agent-conductor-migrate', private: true, dependencies: { prisma: v }, allowScripts: { prisma: true, '@prisma/engines': true } }, null, 2));"

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN npm install -g npm@11.19.1 && npm cache clean --force
COPY --from=build /tmp/migrate-package.json ./package.json
RUN npm install --no-audit --no-fund && npm cache clean --force
COPY prisma.config.ts ./
COPY prisma/schema.prisma ./prisma/schema.prisma
COPY prisma/migrations ./prisma/migrations
RUN chown -R node:node /app
USER node
# Fetch the schema engine at build time, so the task needs no download at run time.
RUN npx prisma --version
CMD ["npx", "prisma", "migrate", "deploy"]

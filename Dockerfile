# syntax=docker/dockerfile:1
# Bot4 paper/live node image. Two stages: `build` compiles TypeScript (tsc) and the WebAssembly kernels (asc)
# with the dev dependencies; the runtime stage holds only production dependencies, the compiled dist/ and
# bin/, and runs as an unprivileged user. Build: docker build -t bot4 .   Run: see deploy/compose.yaml.
# Checked in CI without a container engine (deploy/deploy.test.ts): every COPY source exists, every npm script
# used here is in package.json, and compose renders this build.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: the root `prepare` script builds, which needs the sources copied below.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild esbuild
COPY tsconfig.json tsconfig.build.json ./
COPY asm ./asm
COPY src ./src
COPY bench ./bench
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only; `prepare` (the build) already ran in the build stage. esbuild's install
# script checks its platform binary (tsx uses it to load .ts strategy files).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild esbuild && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY examples ./examples
# A dedicated user without a login shell; the node's state (catalog, journal) lives in /var/lib/bot4.
RUN groupadd --system bot4 && useradd --system --gid bot4 --home-dir /var/lib/bot4 --shell /usr/sbin/nologin bot4 \
  && mkdir -p /var/lib/bot4 && chown bot4:bot4 /var/lib/bot4
USER bot4
WORKDIR /var/lib/bot4
# The metrics endpoint also serves the probes: /healthz answers while the node's event loop runs (the
# container's health: a halted node is alive and must not be restarted), /readyz once it has reconciled, its
# market data is connected and trading is not halted (for an orchestrator's readiness probe). 0.0.0.0 so
# Prometheus in another container (or on the host through a published port) can scrape it.
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/bot4.js"]
CMD ["paper", "--config", "/app/examples/paper.json", "--metrics-port", "9464", "--metrics-host", "0.0.0.0"]

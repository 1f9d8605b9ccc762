# syntax=docker/dockerfile:1
# Kumul's container: `kumul serve` installed from the package `npm pack` makes (the same package as `npm i -g`;
# docs/deploy.md, "Container"). test/cli/dockerfile.test.ts checks this file; no image is built in the tests.
#   docker build -t kumul .
#   docker run -p 8080:8080 -v kumul-data:/var/lib/kumul kumul                  # SQLite on the volume
#   docker run -p 8080:8080 -e KUMUL_DB=postgres://user:pass@db:5432/kumul kumul   # PostgreSQL
# Arguments after the image replace the command: `docker run … kumul serve --no-demo --time-scale 1`.

# Build: the dashboard (Vite, a dev dependency) into the package, then the package with its runtime dependencies.
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source where its prebuilt binary cannot be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY README.md ./
COPY bin/ bin/
COPY src/ src/
COPY scenarios/ scenarios/
COPY datasets/ datasets/
COPY docs/ docs/
COPY deploy/ deploy/
COPY web/ web/
COPY scripts/build-web.mjs scripts/
# prepack builds the dashboard into dist/web/, which the package carries.
RUN npm pack --pack-destination /tmp \
 && npm install --global --prefix /opt/kumul --no-audit --no-fund /tmp/kumul-*.tgz

# Run: Node and the installed package only, as the unprivileged user `node`.
FROM node:20-bookworm-slim
COPY --from=build /opt/kumul /opt/kumul
ENV PATH=/opt/kumul/bin:$PATH \
    KUMUL_DB=sqlite:/var/lib/kumul/kumul.db
RUN mkdir -p /var/lib/kumul && chown node:node /var/lib/kumul
VOLUME /var/lib/kumul
WORKDIR /var/lib/kumul
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["kumul"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]

# syntax=docker/dockerfile:1
# A plain multi-stage build: compile in the Rust image, run on slim Debian.
# Migrations, templates and static assets are compiled into the binary;
# Swagger UI's files for /api/docs come from npm (api-docs/package-lock.json).

FROM node:22-bookworm-slim AS api-docs
WORKDIR /api-docs
COPY api-docs/package.json api-docs/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM rust:1.95-bookworm AS builder
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY api-docs/swagger-init.js ./api-docs/swagger-init.js
COPY loadtest ./loadtest
RUN cargo build --release --locked --bin flashsale --bin flashsale-loadtest

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /app/target/release/flashsale /usr/local/bin/flashsale
COPY --from=builder /app/target/release/flashsale-loadtest /usr/local/bin/flashsale-loadtest
COPY --from=api-docs /api-docs/node_modules/swagger-ui-dist /usr/share/flashsale/swagger-ui-dist
ENV HOST=0.0.0.0 \
    PORT=8080 \
    API_DOCS_DIR=/usr/share/flashsale/swagger-ui-dist \
    RUST_LOG=info,sqlx=warn
EXPOSE 8080
USER nobody
HEALTHCHECK --interval=5s --timeout=3s --retries=12 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/flashsale"]

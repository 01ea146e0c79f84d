# syntax=docker/dockerfile:1
# The backend image Railway builds (.railway/railway.ts: builder DOCKERFILE).
#
# Layers, from the most to the least stable (docs/ci.md, "The image"):
#   1. toolchain + cargo-chef         rebuilt only when this file changes
#   2. recipe.json → dependencies     rebuilt only when a Cargo.toml or Cargo.lock changes
#   3. the workspace crates           rebuilt on every code change (seconds, not minutes)
# Cache mounts were not used: Railway requires their ids to carry the service id literally,
# which would tie this file to one service.

FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /src
# The same profile settings for the dependency layer and the final build, or cargo would
# rebuild every dependency: symbols stripped, no debug info in the image.
ENV CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    SQLX_OFFLINE=true

FROM chef AS planner
COPY . .
# Only manifests and the lockfile reach recipe.json: a code-only change leaves it identical.
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --package intowork-backend --recipe-path recipe.json
COPY . .
# Declared after the dependency layer: a new commit must not invalidate it.
ARG RAILWAY_GIT_COMMIT_SHA
RUN cargo build --release --locked --package intowork-backend --bin backend

FROM debian:bookworm-slim
# rustls with webpki roots built in: no OpenSSL, no CA bundle needed.
RUN groupadd --system --gid 10001 intowork \
    && useradd --system --uid 10001 --gid 10001 --no-create-home intowork
COPY --from=build /src/target/release/backend /app/backend
# Numeric, so the runtime needs no /etc/passwd lookup to drop root.
USER 10001:10001
ENV PORT=8000 LOG_FORMAT=json
EXPOSE 8000
# Exec form: the binary is PID 1 and receives SIGTERM directly.
CMD ["/app/backend", "serve"]

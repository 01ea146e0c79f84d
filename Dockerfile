# The backend image Railway builds (.railway/railway.ts: builder DOCKERFILE).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Railway passes service variables as build arguments when they are declared.
ARG RAILWAY_GIT_COMMIT_SHA
ENV RAILWAY_GIT_COMMIT_SHA=${RAILWAY_GIT_COMMIT_SHA}
COPY . .
RUN cargo build --release --locked --package intowork-backend --bin backend

FROM debian:bookworm-slim
# rustls with webpki roots built in: no OpenSSL, no CA bundle needed.
RUN useradd --system --uid 10001 --no-create-home intowork
COPY --from=build /src/target/release/backend /app/backend
USER intowork
ENV PORT=8000 LOG_FORMAT=json
EXPOSE 8000
# Exec form: the binary is PID 1 and receives SIGTERM directly.
CMD ["/app/backend", "serve"]

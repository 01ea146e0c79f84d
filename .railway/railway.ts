// Railway configuration as code for the IntoWork `backend` service.
//
// The Railway CLI (`railway`, crate railwayapp ≥ 5.42.1) evaluates this file; the npm
// package `railway` is only the SDK it imports (`railway/iac`), pinned in the repository's
// package-lock.json: run `npm ci` at the repository root once. The release manager's path:
//   railway config plan --environment production     # review: nothing may be destroyed
//   railway config apply --environment production    # writes the service's settings
// `cargo xtask deploy` runs the same plan first and refuses to deploy when it would delete a
// variable, a service or the source.
//
// How the CLI's engine diffs this file against the live service (railwayapp 5.71.0,
// src/iac/change_set.rs):
// - `source`, `build` and `deploy` are compared as whole fields: anything omitted here is
//   planned away. All three are declared in full below.
// - Variables are managed: every variable on the service that is not listed here is planned
//   as `variable.delete`. Each variable of the configuration registry
//   (crates/config/src/variables.rs) is either set or `preserve()`d (kept as it is on the
//   platform, value never in the repository); the ones Railway injects (PORT, RAILWAY_*)
//   are never listed.
// `cargo test` evaluates this file with the pinned SDK and checks those invariants on the
// evaluated graph; `cargo xtask verify --remote` checks the same ones on the live service.
import { defineRailway, github, preserve, project, service } from "railway/iac";

// The one place the source is declared: the GitHub repository and branch Railway builds
// from. Keep it equal to the service's Source in the dashboard (`railway config plan` shows
// any difference, and `cargo xtask deploy` refuses a plan that would replace it).
export const SOURCE = { repo: "intowork/intowork-backend", branch: "main" } as const;

// This file owns the `backend` service only: without a partial, every resource it does not
// declare (the Postgres service!) would be planned for deletion.
export const partial = "backend";

// The topology: the backend's replicas reach the database through a pooler, and migrations
// go around it.
//
//   backend replica ×N ──DATABASE_URL──▶ PgBouncer (transaction pooling) ──▶ Postgres
//          └───────DATABASE_DIRECT_URL: migrations, their lock, their timeouts──────┘
//
// With a pooler, DATABASE_URL is the pooler's URL and DATABASE_POOL_MODE says it pools by
// transaction, where nothing session-scoped survives a transaction; so migrations (a session
// advisory lock, SET lock_timeout/statement_timeout) connect to DATABASE_DIRECT_URL, the
// database's own URL, and the backend refuses to migrate through a transaction pooler.
// `cargo xtask verify --remote` checks the pair against the pooler service's POOL_MODE,
// MAX_CLIENT_CONN, DEFAULT_POOL_SIZE, replicas and TLS settings (PgBouncer must speak TLS to
// the backend and to the database: CLIENT_TLS_SSLMODE and SERVER_TLS_SSLMODE on its service).
// With Railway's managed pooling (the database's Connection Pooling tab), reference the
// unpooled URL it documents (DATABASE_UNPOOLED_URL) for DATABASE_DIRECT_URL instead.
//
// POOLER names the pooler service; null: no pooler, DATABASE_URL is the database's own URL.
// The backend's queries are correct through transaction pooling (the pool pins each in a
// transaction: docs/replicas.md), at a cost in latency; null because one
// instance needs no pooler: set it when replicas × DATABASE_MAX_CONNECTIONS outgrow the
// database's max_connections.
export const DATABASE = "Postgres";
export const POOLER: string | null = null;
const reference = (service: string, variable: string) => `\${{${service}.${variable}}}`;

// Railway sends SIGKILL `drainingSeconds` after SIGTERM. The backend lets in-flight requests
// finish for SHUTDOWN_GRACE_SECS, then closes its pool (a 5 s budget): the margin.
const SHUTDOWN_GRACE_SECS = 25;
const POOL_CLOSE_SECS = 5;

export default defineRailway((ctx) => {
  // The CLI evaluates the file once per environment, naming it in the context. Only
  // `production` is production; any other named environment (staging, PR environments) is
  // staging. Without a name (an older CLI) ENVIRONMENT is left as the platform has it, so
  // "production" can never be written into whichever environment happens to be linked.
  const environment = ctx?.environment ?? ctx?.environmentName;
  const ENVIRONMENT =
    environment === "production" ? "production" : environment ? "staging" : preserve();

  const backend = service("backend", {
    source: github(SOURCE.repo, { branch: SOURCE.branch }),
    build: {
      builder: "DOCKERFILE",
      dockerfilePath: "Dockerfile",
      watchPatterns: ["backend/**", "crates/**", "migrations/**", "Cargo.toml", "Cargo.lock", "Dockerfile"],
    },
    // No start command: the Dockerfile's exec-form CMD makes the binary PID 1 (no shell in
    // between), so SIGTERM reaches it and it drains.
    //
    // Migrations run at start-up (MIGRATE_ON_START below, under an advisory lock). To run
    // them once per deploy instead, set MIGRATE_ON_START to "false" and add the pre-deploy
    // command in the platform's form — one element per *command*, each run as a whole
    // command string (not one element per argument):
    //   preDeploy: ["/app/backend migrate"],
    healthcheck: "/health/ready",
    healthcheckTimeout: 120,
    // DATABASE_MAX_CONNECTIONS × replicas (× 2 while a deploy overlaps old and new) must fit
    // the database's max_connections, or, behind a pooler, its MAX_CLIENT_CONN (the pooler's
    // DEFAULT_POOL_SIZE then counts against max_connections): both are decided here, together.
    replicas: 1,
    deploy: {
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 5,
      drainingSeconds: SHUTDOWN_GRACE_SECS + POOL_CLOSE_SECS,
      sleepApplication: false,
    },
    env: {
      // References resolved by Railway (see the topology above); TLS is enforced by the
      // backend whatever the URL says. DATABASE_PUBLIC_URL is the database's own TCP proxy,
      // for checks and migrations from outside Railway.
      DATABASE_URL: reference(POOLER ?? DATABASE, "DATABASE_URL"),
      DATABASE_POOL_MODE: POOLER ? "transaction" : "session",
      DATABASE_DIRECT_URL: POOLER ? reference(DATABASE, "DATABASE_URL") : preserve(),
      DATABASE_PUBLIC_URL: reference(DATABASE, "DATABASE_PUBLIC_URL"),
      ENVIRONMENT,
      MIGRATE_ON_START: "true",
      SHUTDOWN_GRACE_SECS: String(SHUTDOWN_GRACE_SECS),
      DATABASE_MAX_CONNECTIONS: "10",
      LOG_FORMAT: "json",
      // Secrets and per-environment values live in the dashboard, never in the repository:
      // kept as they are.
      NEXTAUTH_SECRET: preserve(),
      RESEND_API_KEY: preserve(),
      ALLOWED_ORIGINS: preserve(),
      FRONTEND_URL: preserve(),
      FROM_EMAIL: preserve(),
      RESEND_API_URL: preserve(),
      DATABASE_TLS_FINGERPRINT: preserve(),
      DATABASE_CONNECT_TIMEOUT_SECS: preserve(),
      MIGRATION_LOCK_TIMEOUT_SECS: preserve(),
      MIGRATION_STATEMENT_TIMEOUT_SECS: preserve(),
      PGSSLMODE: preserve(),
      PGSSLROOTCERT: preserve(),
    },
  });
  return project("intowork", { resources: [backend] });
});

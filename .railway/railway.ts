// Railway infrastructure as code for the IntoWork backend service.
//
// Railway stops reading railway.toml / railway.json on 2026-12-01; the current CLI manages
// this file instead: `npx railway config plan` shows the change set, `railway config apply`
// writes it to the environment's service settings. Review the plan before applying.
//
// Kept in step with the code by `cargo test` (xtask/tests/tidy.rs): the health check path,
// the Dockerfile's exec-form CMD and the draining period are asserted there.
import { defineRailway, preserve, project, service } from "railway/iac";

// Only this service is managed here: without `partial`, resources not declared in this file
// (the Postgres service!) would be planned for deletion.
export const partial = "backend";

export default defineRailway(() => {
  const backend = service("backend", {
    build: { builder: "DOCKERFILE", dockerfilePath: "Dockerfile", watchPatterns: ["backend/**", "crates/**", "migrations/**", "Cargo.lock", "Dockerfile"] },
    // No start command: the Dockerfile's exec-form CMD makes the binary PID 1 (no shell in
    // between), so SIGTERM reaches it and it drains.
    // With MIGRATE_ON_START=false, use the pre-deploy command instead (see README):
    // preDeploy: ["/app/backend", "migrate"],
    healthcheck: "/health/ready",
    healthcheckTimeout: 120,
    deploy: {
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 5,
      // SIGKILL follows SIGTERM after this many seconds: the backend drains for
      // SHUTDOWN_GRACE_SECS (25 by default), then closes its pool.
      drainingSeconds: 30,
    },
    env: {
      // Resolved by Railway from the database service; TLS is enforced by the backend.
      DATABASE_URL: "${{Postgres.DATABASE_URL}}",
      DATABASE_PUBLIC_URL: "${{Postgres.DATABASE_PUBLIC_URL}}",
      ENVIRONMENT: "production",
      SHUTDOWN_GRACE_SECS: "25",
      // Set in the dashboard (secrets never live in the repository); kept as they are.
      NEXTAUTH_SECRET: preserve(),
      ALLOWED_ORIGINS: preserve(),
      FRONTEND_URL: preserve(),
      RESEND_API_KEY: preserve(),
      FROM_EMAIL: preserve(),
      MIGRATE_ON_START: preserve(),
      DATABASE_TLS_FINGERPRINT: preserve(),
      DATABASE_MAX_CONNECTIONS: preserve(),
    },
  });
  return project("intowork", { resources: [backend] });
});

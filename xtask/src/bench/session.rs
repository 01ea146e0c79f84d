//! The authenticated path: what checking a NextAuth session token costs (in-process, from the
//! backend's `session` bench on tokens minted by next-auth's and @auth/core's own `encode`),
//! and `GET /api/me` under load with such a token (decrypt + one user lookup).

use std::time::Duration;

use anyhow::Context as _;

use super::load;
use super::report::Row;
use super::rows::{info, skip};
use super::scenario::Context;
use super::throughput::{route_names, route_rows};

const NAMES: [&str; 3] = [
    "session token check, next-auth 4 (A256GCM)",
    "session token check, Auth.js 5 (A256CBC-HS512)",
    "`GET /api/me` (Bearer session)",
];

impl Context<'_> {
    pub(crate) fn session(&self, clients: usize, duration: Duration) -> anyhow::Result<Vec<Row>> {
        let measured = match self.token_cost() {
            Ok(doc) => doc,
            Err(e) => {
                let why = format!("needs Node.js 20+ and npm to mint real tokens: {e:#}");
                let [throughput, cpu] = route_names(NAMES[2]);
                let names = [NAMES[0], NAMES[1], &throughput, &cpu];
                return Ok(names.iter().map(|n| skip(n, &why)).collect());
            }
        };
        let cost = |key: &str, name: &str| {
            info(
                name,
                format!(
                    "{:.1} µs",
                    measured[key].as_f64().unwrap_or(f64::NAN) / 1000.0
                ),
                "per token, in-process: parse the JWE, decrypt, check exp/nbf/email (keys derived once at start-up)",
            )
        };
        let mut rows = vec![cost("v4_ns", NAMES[0]), cost("v5_ns", NAMES[1])];
        let token = measured["token"]
            .as_str()
            .context("the bench printed no token")?;
        let header = format!("Authorization: Bearer {token}");
        let backend = self.start_backend()?;
        // The first signed-in request creates the account; the load then only looks it up.
        let me = load::run(
            backend.port,
            "/api/me",
            Some(&header),
            1,
            Duration::from_millis(200),
        )
        .and_then(|_| self.measure(&backend, "/api/me", Some(&header), clients, duration));
        let stopped = self.stop_backend(backend);
        let me = me?;
        stopped?;
        rows.extend(route_rows(
            NAMES[2],
            &me,
            "token check + one indexed user lookup per request; compare with `GET /health`",
        ));
        Ok(rows)
    }

    /// `cargo bench -p intowork-backend --bench session` with this stack's secret.
    fn token_cost(&self) -> anyhow::Result<serde_json::Value> {
        let out = crate::util::cargo::cargo(
            self.sh,
            &[
                "bench",
                "--quiet",
                "--package",
                "intowork-backend",
                "--bench",
                "session",
            ],
        )
        .env("INTOWORK_BENCH_SECRET", &self.secret)
        .quiet()
        .ignore_stderr()
        .read()?;
        let line = out
            .lines()
            .last()
            .context("the session bench printed nothing")?;
        serde_json::from_str(line).context("the session bench's output is not JSON")
    }
}

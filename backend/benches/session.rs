//! The cost of checking a session token, in-process: `Authenticator::verify` (parse the
//! compact JWE, decrypt, check the claims) on tokens minted by the frontend's real libraries.
//! Run by `cargo xtask bench` (`cargo bench -p intowork-backend --bench session`) with the
//! bench stack's secret in `INTOWORK_BENCH_SECRET`; prints one JSON line: nanoseconds per
//! token for each library, and a next-auth 4 token for the authenticated load test.

use std::path::Path;
use std::time::{Duration, Instant};

use intowork_backend::auth::Authenticator;
use intowork_backend::auth::carrier::Carrier;
use secrecy::SecretString;
use serde_json::json;
use xshell::{Shell, cmd};

const ROUNDS: usize = 7;
const PER_ROUND: u32 = 5_000;

fn main() {
    let secret = std::env::var("INTOWORK_BENCH_SECRET")
        .expect("INTOWORK_BENCH_SECRET: the secret the bench's backend runs with");
    let [v4, v5] = mint(&secret);
    let auth = Authenticator::new(&SecretString::from(secret));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let v4_ns = per_token(|| auth.verify(Carrier::Bearer, &v4, now).is_ok());
    let cookie = Carrier::V5Cookie("authjs.session-token");
    let v5_ns = per_token(|| auth.verify(cookie, &v5, now).is_ok());
    println!("{}", json!({"v4_ns": v4_ns, "v5_ns": v5_ns, "token": v4}));
}

/// Median over rounds of the mean time per call, in nanoseconds.
fn per_token(mut verify: impl FnMut() -> bool) -> f64 {
    assert!(verify(), "the minted token must verify");
    let mut rounds: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..PER_ROUND {
                std::hint::black_box(verify());
            }
            t.elapsed() / PER_ROUND
        })
        .collect();
    rounds.sort();
    rounds[ROUNDS / 2].as_nanos() as f64
}

/// One token from next-auth 4's `encode`, one from @auth/core's (salted for its cookie).
fn mint(secret: &str) -> [String; 2] {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("nextauth");
    let script = intowork_testkit::npm::install(&package)
        .scratch_dir("bench")
        .join("mint.mjs");
    std::fs::copy(package.join("mint.mjs"), &script).unwrap();
    let claims = json!({"email": "bench@intowork.example", "name": "Bench"});
    let input = json!([
        {"lib": "next-auth", "secret": secret, "maxAge": 86400, "token": claims},
        {"lib": "authjs", "secret": secret, "salt": "authjs.session-token", "maxAge": 86400, "token": claims},
    ]);
    let node = intowork_testkit::npm::node();
    let sh = Shell::new().unwrap();
    let out = cmd!(sh, "{node} {script}")
        .stdin(input.to_string())
        .quiet()
        .read()
        .expect("node mint.mjs");
    let tokens: Vec<String> = serde_json::from_str(&out).expect("a JSON array of tokens");
    [tokens[0].clone(), tokens[1].clone()]
}

//! Session tokens minted by the frontend's real libraries (`backend/tests/nextauth`):
//! next-auth 4's and @auth/core's own `encode`.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};
use xshell::{Shell, cmd};

use intowork_testkit::npm;

/// Which library encodes, and for Auth.js the salt (the cookie name it will travel in).
#[derive(Debug, Clone)]
pub enum Lib {
    NextAuth,
    AuthJs { salt: String },
}

#[derive(Debug, Clone)]
pub struct Mint {
    pub lib: Lib,
    pub secret: String,
    /// Seconds from now to `exp` (the libraries' `maxAge`); negative: already expired.
    pub max_age: i64,
    pub claims: Value,
}

impl Mint {
    pub fn v4(secret: &str, claims: Value) -> Mint {
        Mint {
            lib: Lib::NextAuth,
            secret: secret.to_owned(),
            max_age: 3600,
            claims,
        }
    }

    pub fn v5(secret: &str, salt: &str, claims: Value) -> Mint {
        Mint {
            lib: Lib::AuthJs {
                salt: salt.to_owned(),
            },
            secret: secret.to_owned(),
            max_age: 3600,
            claims,
        }
    }

    pub fn max_age(mut self, secs: i64) -> Mint {
        self.max_age = secs;
        self
    }
}

/// One `node` run for all of `requests`.
pub fn mint(requests: &[Mint]) -> Vec<String> {
    static SCRIPT: OnceLock<std::path::PathBuf> = OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        let package = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("nextauth");
        let dir = npm::install(&package).scratch_dir("mint");
        let script = dir.join("mint.mjs");
        std::fs::copy(package.join("mint.mjs"), &script).unwrap();
        script
    });
    let input: Vec<Value> = requests
        .iter()
        .map(|m| {
            let (lib, salt) = match &m.lib {
                Lib::NextAuth => ("next-auth", None),
                Lib::AuthJs { salt } => ("authjs", Some(salt.clone())),
            };
            json!({"lib": lib, "secret": m.secret, "salt": salt, "maxAge": m.max_age, "token": m.claims})
        })
        .collect();
    let sh = Shell::new().unwrap();
    let node = npm::node();
    let out = cmd!(sh, "{node} {script}")
        .stdin(Value::Array(input).to_string())
        .quiet()
        .read()
        .expect("node mint.mjs");
    serde_json::from_str(&out).expect("a JSON array of tokens")
}

/// Seconds since the epoch, for `nbf`.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

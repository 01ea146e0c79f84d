//! Runs the real `xtask` binary with a cleared, crafted environment.

use crate::common::{Run, find_check};
use intowork_testkit::ValidEnv;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use serde_json::Value;
use xshell::{Shell, cmd};

/// Obviously fake values (the testkit's); none is a real credential.
use intowork_testkit::fake::{DB_PASSWORD as PASSWORD, NEXTAUTH_SECRET as SECRET};

fn xtask(sh: &Shell, args: &[&str], env: &[(&str, OsString)]) -> Run {
    let bin = env!("CARGO_BIN_EXE_xtask");
    let out = cmd!(sh, "{bin} {args...}")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .ignore_status()
        .quiet()
        .output()
        .expect("the xtask binary runs");
    Run::from(out)
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(&'static str, OsString)> {
    pairs
        .iter()
        .map(|(k, v)| (leak(k), OsString::from(v)))
        .collect()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// The testkit's valid configuration on a Railway-shaped URL, email on.
fn valid_env() -> ValidEnv {
    ValidEnv::development(&ValidEnv::railway_url("")).with_email()
}

fn valid() -> Vec<(&'static str, OsString)> {
    valid_env()
        .vars()
        .into_iter()
        .map(|(k, v)| (leak(&k), OsString::from(v)))
        .collect()
}

fn assert_no_secret(run: &Run) {
    assert_no_secrets!(run.stdout, valid_env(), "a secret on stdout");
    assert_no_secrets!(run.stderr, valid_env(), "a secret on stderr");
}

#[test]
fn a_valid_configuration_exits_0_with_a_checklist() {
    let sh = Shell::new().unwrap();
    let run = xtask(&sh, &["verify", "--offline", "--no-env-file"], &valid());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_contains!(run.stdout, "pass  DATABASE_URL");
    assert_contains!(run.stdout, "Railway TCP proxy, TLS `require`");
    assert_contains!(run.stdout, "skip  database.online");
    assert!(
        run.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("verify ok: "),
        "{}",
        run.stdout
    );
    assert_lacks!(run.stdout, '\x1b', "no colour through a pipe");
    assert_no_secret(&run);
}

#[test]
fn the_seed_url_fails_with_exit_1_the_explanation_and_the_corrected_url() {
    let sh = Shell::new().unwrap();
    let mut env = valid();
    env[0].1 = format!(
        "postgresql://postgres:{PASSWORD}@interchange.proxy.rlwy.net:41234/railway?ssl=disable"
    )
    .into();
    let run = xtask(&sh, &["verify", "--offline", "--no-env-file"], &env);
    assert_eq!(run.code, 1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("fail  DATABASE_URL"))
        .expect("a failed DATABASE_URL line");
    assert_contains!(line, "Connection reset by peer");
    assert_contains!(
        run.stdout,
        "fix: use postgresql://postgres:****@interchange.proxy.rlwy.net:41234/railway?sslmode=require"
    );
    assert_contains!(run.stderr, "verify: 1 check failed");
    assert_no_secret(&run);
}

#[test]
fn json_is_exactly_one_document_with_the_documented_shape() {
    let sh = Shell::new().unwrap();
    let mut env = valid();
    env.push(("PORT", "99999".into()));
    env.push(("ALLOWED_ORIGINS", "https://app.example.com/".into()));
    let run = xtask(
        &sh,
        &["verify", "--offline", "--json", "--no-env-file"],
        &env,
    );
    assert_eq!(run.code, 1);
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["ok"], false);
    let summary = &doc["summary"];
    for key in ["pass", "warn", "fail", "skip"] {
        assert!(summary[key].is_u64(), "summary.{key}");
    }
    assert_eq!(summary["fail"], 2);
    let checks = doc["checks"].as_array().unwrap();
    for c in checks {
        assert!(c["id"].is_string() && c["message"].is_string(), "{c}");
        assert!(
            ["pass", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap()),
            "{c}"
        );
    }
    let failed: Vec<_> = checks.iter().filter(|c| c["status"] == "fail").collect();
    let names: Vec<_> = failed
        .iter()
        .map(|c| c["variable"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ALLOWED_ORIGINS", "PORT"]);
    assert!(
        failed
            .iter()
            .all(|c| c["hint"].is_string() && c["source"] == "environment")
    );
    assert_eq!(failed[0]["hint"], "use `https://app.example.com`");
    assert_no_secret(&run);
}

#[test]
fn usage_errors_exit_2() {
    let sh = Shell::new().unwrap();
    let run = xtask(
        &sh,
        &["verify", "--env-file", "/nonexistent/intowork.env"],
        &valid(),
    );
    assert_eq!(run.code, 2);
    assert_contains!(
        run.stderr,
        "env file `/nonexistent/intowork.env` does not exist"
    );
    assert!(run.stdout.is_empty());
    assert_eq!(xtask(&sh, &["verify", "--bogus"], &valid()).code, 2);
    assert_eq!(
        xtask(
            &sh,
            &["verify", "--env-file", "x", "--no-env-file"],
            &valid()
        )
        .code,
        2
    );
    assert_eq!(xtask(&sh, &["frobnicate"], &valid()).code, 2);
}

#[test]
fn env_file_is_read_relative_to_the_caller_and_the_environment_wins() {
    let sh = Shell::new().unwrap();
    let dir = sh.create_temp_dir().unwrap();
    let file = dir.path().join("app.env");
    std::fs::write(&file, format!("DATABASE_URL=postgres://u:{PASSWORD}@db.example.com/app?sslmode=disable\nNEXTAUTH_SECRET={SECRET}\nPORT=1234\n")).unwrap();
    sh.change_dir(dir.path());
    // From the file alone: the remote URL without TLS fails.
    let run = xtask(&sh, &["verify", "--offline", "--env-file", "app.env"], &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_contains!(run.stdout, &format!("[file {}]", file.display()));
    // The environment overrides the file's DATABASE_URL and PORT.
    let env = vars(&[
        (
            "DATABASE_URL",
            &format!("postgres://u:{PASSWORD}@db.example.com/app"),
        ),
        ("PORT", "4321"),
    ]);
    let run = xtask(
        &sh,
        &["verify", "--offline", "--env-file", "app.env", "--json"],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let port = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["variable"] == "PORT")
        .unwrap();
    assert_eq!(
        (port["message"].as_str(), port["source"].as_str()),
        (Some("4321"), Some("environment"))
    );
    assert_no_secret(&run);
}

#[test]
fn non_utf8_values_and_broken_env_files_are_reported_without_their_content() {
    let sh = Shell::new().unwrap();
    let mut env = valid();
    env.push(("PORT", OsString::from_vec(vec![b'8', 0xff])));
    let run = xtask(&sh, &["verify", "--offline", "--no-env-file"], &env);
    assert_eq!(run.code, 1);
    assert_contains!(run.stdout, "fail  PORT");
    assert_contains!(run.stdout, "not valid UTF-8");

    let dir = sh.create_temp_dir().unwrap();
    let file = dir.path().join("broken.env");
    std::fs::write(
        &file,
        format!("NEXTAUTH_SECRET={SECRET}\n{PASSWORD} oops\n"),
    )
    .unwrap();
    let run = xtask(&sh, &["verify", "--env-file", file.to_str().unwrap()], &[]);
    assert_eq!(run.code, 1);
    assert_contains!(run.stderr, "line 2: expected `KEY=value`");
    assert_no_secret(&run);
}

#[test]
fn the_shipped_example_fails_and_the_sample_passes() {
    let sh = Shell::new().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let example = root.join(".env.example");
    let run = xtask(
        &sh,
        &[
            "verify",
            "--offline",
            "--json",
            "--env-file",
            example.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut failed: Vec<_> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            "database_url.unresolved_reference",
            "nextauth_secret.placeholder"
        ]
    );

    let sample = root.join("samples/local.env");
    let run = xtask(
        &sh,
        &[
            "verify",
            "--offline",
            "--env-file",
            sample.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// Colour only on a terminal (a pseudo-terminal from util-linux `script`), never with NO_COLOR.
#[test]
fn colour_on_a_terminal_unless_no_color() {
    let sh = Shell::new().unwrap();
    if cmd!(sh, "script --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_err()
    {
        intowork_testkit::skip("util-linux `script` is not installed");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_xtask");
    let line = format!("{bin} verify --offline --no-env-file");
    let on_tty = |no_color: Option<&str>| {
        let mut c = cmd!(sh, "script -qec {line} /dev/null")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in valid() {
            c = c.env(k, v);
        }
        if let Some(v) = no_color {
            c = c.env("NO_COLOR", v);
        }
        String::from_utf8(c.ignore_status().quiet().output().unwrap().stdout).unwrap()
    };
    let coloured = on_tty(None);
    assert_contains!(coloured, "\x1b[32mpass");
    let plain = on_tty(Some("1"));
    assert_contains!(plain, "pass  DATABASE_URL");
    assert_lacks!(plain, '\x1b');
    assert_lacks!(coloured, PASSWORD);
    assert_lacks!(coloured, SECRET);
}

/// #12.1: the issue's `sslpassword=` example and generated secrets in every parameter that
/// carries one, with configurations that pass, warn and fail: no output shows them.
#[test]
fn secret_url_parameters_never_reach_text_or_json() {
    let sh = Shell::new().unwrap();
    let mut rng_state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let mut cases = vec![(
        "sslpassword".to_owned(),
        "sslpw-Fake9Example".to_owned(),
        "sslmode=disable",
    )];
    for param in intowork_config::SECRET_PARAMS {
        for tls in ["", "sslmode=disable", "sslmode=bogus"] {
            let secret = format!("zQ{:016x}-{}", next(), "p@ss w%rd");
            cases.push((param.to_string(), secret, tls));
        }
    }
    for (param, secret, tls) in cases {
        let encoded: String = secret
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let url = format!("postgresql://u:{PASSWORD}@db.example.com/app?{param}={encoded}&{tls}");
        let mut env = valid();
        env[0].1 = url.clone().into();
        for json in [false, true] {
            let mut args = vec!["verify", "--offline", "--no-env-file"];
            if json {
                args.push("--json");
            }
            let run = xtask(&sh, &args, &env);
            assert!(run.code <= 1, "{}{}", run.stdout, run.stderr);
            for shown in [secret.as_str(), encoded.as_str(), PASSWORD] {
                assert_lacks!(
                    run.stdout,
                    shown,
                    "`{shown}` from {url} leaked:\n{}{}",
                    run.stdout,
                    run.stderr
                );
                assert_lacks!(
                    run.stderr,
                    shown,
                    "`{shown}` from {url} leaked:\n{}{}",
                    run.stdout,
                    run.stderr
                );
            }
            // Whenever the URL is shown (a pass line, a corrected URL), the value is `****`.
            if tls != "sslmode=bogus" {
                assert_contains!(run.stdout, &format!("{param}=****"));
            }
            assert_no_secret(&run);
        }
    }
}

/// #12.4: with DATABASE_URL missing or unparsable, every other database variable is still
/// checked, in one run.
#[test]
fn every_database_problem_at_once_even_without_a_url() {
    let sh = Shell::new().unwrap();
    for url in [
        None,
        Some("not a url"),
        Some("postgres://u:p@db.example.com/app?sslmode=nope"),
    ] {
        let mut env = vars(&[
            ("NEXTAUTH_SECRET", SECRET),
            ("PGSSLMODE", "requir"),
            ("PGSSLROOTCERT", "/nonexistent/root.crt"),
            ("DATABASE_TLS_FINGERPRINT", "not-a-pin"),
            (
                "DATABASE_PUBLIC_URL",
                "postgresql://u:p@x.proxy.rlwy.net:1/railway?ssl=disable",
            ),
        ]);
        if let Some(url) = url {
            env.extend(vars(&[("DATABASE_URL", url)]));
        }
        let run = xtask(
            &sh,
            &["verify", "--offline", "--no-env-file", "--json"],
            &env,
        );
        assert_eq!(run.code, 1);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let status_of = |var: &str| -> Vec<String> {
            doc["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["variable"] == var)
                .map(|c| c["status"].as_str().unwrap().to_owned())
                .collect()
        };
        for var in [
            "DATABASE_URL",
            "PGSSLMODE",
            "DATABASE_TLS_FINGERPRINT",
            "DATABASE_PUBLIC_URL",
        ] {
            assert_eq!(status_of(var), ["fail"], "{var} in {url:?}: {}", run.stdout);
        }
        assert_eq!(status_of("PGSSLROOTCERT"), ["warn"], "{}", run.stdout);
        assert_eq!(doc["summary"]["fail"], 4);
    }
}

/// #12.6: control characters from an env file or the environment are shown as escapes in
/// the checklist: nothing clears the screen or forges a line. JSON stays valid.
#[test]
fn control_characters_from_input_are_escaped_in_the_checklist() {
    let sh = Shell::new().unwrap();
    let forged = "\x1b[2J\x1b[Hpass  DATABASE_URL  ok\r\n";
    let url = format!(
        "postgresql://postgres:{PASSWORD}@interchange.proxy.rlwy.net:41234/railway?sslmode={}",
        forged
            .replace('\x1b', "%1b")
            .replace('\r', "%0d")
            .replace('\n', "%0a")
    );
    let dir = sh.create_temp_dir().unwrap();
    let file = dir.path().join("crafted.env");
    std::fs::write(
        &file,
        format!("ENVIRONMENT=\"stag\\u{{1b}}ing\x1b[31m\"\nPORT='80\r80'\nLOG_FORMAT=\"\x07json\x00\"\nNEXTAUTH_SECRET={SECRET}\n"),
    )
    .unwrap();
    let env = vars(&[
        ("DATABASE_URL", &url),
        ("FROM_EMAIL", "a\u{202e}b@example.com"),
    ]);
    let file = file.to_str().unwrap();
    let text = xtask(&sh, &["verify", "--offline", "--env-file", file], &env);
    assert_eq!(text.code, 1);
    for raw in ['\x1b', '\r', '\x07', '\0', '\u{202e}'] {
        assert_lacks!(text.stdout, raw, "{raw:?} raw in:\n{:?}", text.stdout);
    }
    assert_contains!(text.stdout, "\\x1b[2J\\x1b[Hpass  DATABASE_URL  ok\\r\\n");
    assert!(
        !text
            .stdout
            .lines()
            .any(|l| l.starts_with("pass  DATABASE_URL"))
    );
    let json = xtask(
        &sh,
        &["verify", "--offline", "--env-file", file, "--json"],
        &env,
    );
    let doc: Value = serde_json::from_str(&json.stdout).expect("still one JSON document");
    assert!(
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["message"].as_str().unwrap().contains(forged))
    );
}

/// #12.7: an env file that is not a regular file is refused at once (a FIFO with no writer
/// would block forever), and an OS error is printed once.
#[test]
fn env_files_that_are_not_regular_files_are_refused_at_once() {
    let sh = Shell::new().unwrap();
    let dir = sh.create_temp_dir().unwrap();
    let fifo = dir.path().join("fifo.env");
    cmd!(sh, "mkfifo {fifo}").quiet().run().unwrap();
    let started = std::time::Instant::now();
    let run = xtask(
        &sh,
        &["verify", "--offline", "--env-file", fifo.to_str().unwrap()],
        &valid(),
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_contains!(run.stderr, "is a FIFO (named pipe), not a regular file");

    let run = xtask(
        &sh,
        &[
            "verify",
            "--offline",
            "--env-file",
            dir.path().to_str().unwrap(),
        ],
        &valid(),
    );
    assert_eq!(run.code, 2);
    assert_contains!(run.stderr, "is a directory, not a regular file");

    // A symlink loop is unusable like the rest (exit 2), with the OS error, once.
    let a = dir.path().join("a.env");
    let b = dir.path().join("b.env");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let run = xtask(
        &sh,
        &["verify", "--offline", "--env-file", a.to_str().unwrap()],
        &valid(),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr
            .matches("Too many levels of symbolic links")
            .count(),
        1,
        "{}",
        run.stderr
    );
}

/// #12.3 offline: a name that only looks local cannot be proven local without resolving it.
#[test]
fn offline_a_local_looking_name_under_plaintext_gets_a_warning() {
    let sh = Shell::new().unwrap();
    for (url, warned) in [
        ("postgres://u:p@pg.localhost/db?sslmode=disable", true),
        ("postgres://u:p@LOCALHOST./db", true),
        ("postgres://u:p@localhost/db?sslmode=require", false),
        ("postgres://u:p@127.0.0.1/db?sslmode=disable", false),
    ] {
        let mut env = valid();
        env[0].1 = url.into();
        let run = xtask(
            &sh,
            &["verify", "--offline", "--no-env-file", "--json"],
            &env,
        );
        assert_eq!(run.code, 0, "{}", run.stdout);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let warning = find_check(&doc, "database_url.locality");
        assert_eq!(warning.is_some(), warned, "{url}: {}", run.stdout);
        if let Some(w) = warning {
            assert_eq!(w["status"], "warn");
            assert_contains!(w["message"].as_str().unwrap(), "not checked offline");
        }
    }
}

/// #12.5 and #12.7 through the binary: a padded secret and a repeated parameter.
#[test]
fn a_padded_secret_fails_and_a_repeated_parameter_warns() {
    let sh = Shell::new().unwrap();
    let mut env = valid();
    env[1].1 = format!("Zx{}", " ".repeat(34)).into();
    env[0].1 = format!(
        "postgresql://postgres:{PASSWORD}@interchange.proxy.rlwy.net:41234/railway?sslmode=disable&sslmode=require"
    )
    .into();
    let run = xtask(&sh, &["verify", "--offline", "--no-env-file"], &env);
    assert_eq!(run.code, 1);
    assert_contains!(run.stdout, "fail  NEXTAUTH_SECRET");
    assert_contains!(run.stdout, "untrimmed");
    assert_contains!(
        run.stdout,
        "parameter `sslmode` is given 2 times; the last one, `require`, is used"
    );
}

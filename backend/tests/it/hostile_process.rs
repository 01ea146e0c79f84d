//! #26.6 and #26.9 through the real `backend` binary: the caller's `X-Request-Id` is kept
//! only when it is short and plain (otherwise replaced, and never logged); `RUST_LOG` and
//! hostile command-line arguments reach the terminal escaped.

use std::time::Duration;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use xshell::{Shell, cmd};

use crate::common::process::Backend;
use crate::common::{self, SECRET, env};
use intowork_testkit::hostile::{shows_no_raw_control, terminal_text};
use intowork_testkit::{Flavor, PgServer, free_port};

/// An `X-Request-Id` a caller may send, and whether it is short and plain enough to keep.
fn request_id() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        "[A-Za-z0-9._:@+=/-]{1,128}".prop_map(|s| (s, true)),
        "[A-Za-z0-9-]{129,400}".prop_map(|s| (s, false)),
        (
            "[a-z]{3,8}",
            prop_oneof![
                Just("\t"),
                Just(" "),
                Just("\""),
                Just("\\"),
                Just("<"),
                Just("é"),
                Just("\u{202e}"),
                Just("\u{9b}")
            ],
            "[a-z]{3,8}"
        )
            .prop_map(|(a, c, b)| (format!("{a}{c}{b}"), false)),
    ]
}

/// #26.6: kept when plain and bounded, replaced by a new UUID otherwise; a replaced id is
/// never logged, and no log line carries a control character from it.
#[test]
fn request_ids_are_kept_only_when_short_and_plain() {
    let db = PgServer::shared(Flavor::TlsOnly).create_database();
    let vars = [
        ("RUST_LOG", "info,intowork_backend=debug"),
        ("LOG_FORMAT", "pretty"),
    ];
    // Text logs (control characters would show raw), so the port is chosen here.
    let port = free_port();
    let mut b = Backend::spawn(&["serve", "--port", &port.to_string()], &env(&db, &vars));
    b.wait_for("application startup complete", Duration::from_secs(30));
    let mut runner = TestRunner::new(Config::default());
    let ids: Vec<(String, bool)> = (0..48)
        .map(|_| request_id().new_tree(&mut runner).unwrap().current())
        .collect();
    let mut answered = Vec::new();
    for (id, _) in &ids {
        let r = common::http::request(port, "GET", "/health", &[("x-request-id", id)]).unwrap();
        assert_eq!(r.status, 200, "{id:?}: {}", r.body);
        answered.push(r.header("x-request-id").unwrap_or_default().to_owned());
    }
    b.signal("TERM");
    assert_eq!(b.wait(Duration::from_secs(30)), Some(0), "{}", b.output());
    let out = b.output();
    assert!(shows_no_raw_control(&out), "{out}");
    for ((id, plain), back) in ids.iter().zip(&answered) {
        if *plain {
            assert_eq!(back, id);
            assert!(
                out.contains(&format!("request_id={id:?}")) || out.contains(id.as_str()),
                "{id} not logged"
            );
        } else {
            let uuid =
                uuid::Uuid::parse_str(back).unwrap_or_else(|_| panic!("{id:?} answered {back:?}"));
            assert_eq!(uuid.get_version_num(), 4, "{back}");
            assert_lacks!(out, id.as_str(), "{id:?} logged:\n{out}");
        }
    }
}

/// A configuration that passes, with a database that refuses at once: the process gets past
/// logging's set-up, then exits 1 within a second or two.
fn unreachable_env(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let url = format!(
        "postgres://app:pw-Fake3@127.0.0.1:{}/app?sslmode=disable",
        free_port()
    );
    let mut vars = vec![
        ("DATABASE_URL".to_owned(), url),
        ("NEXTAUTH_SECRET".to_owned(), SECRET.to_owned()),
        ("DATABASE_CONNECT_TIMEOUT_SECS".to_owned(), "1".to_owned()),
        ("LOG_FORMAT".to_owned(), "pretty".to_owned()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    vars
}

fn backend(args: &[String], vars: &[(String, String)]) -> (Option<i32>, String) {
    let sh = Shell::new().unwrap();
    let bin = env!("CARGO_BIN_EXE_backend");
    let out = cmd!(sh, "{bin} {args...}")
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .ignore_status()
        .quiet()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// #26.9: `RUST_LOG` directives, valid or not, are never echoed raw.
    #[test]
    fn rust_log_directives_are_escaped(text in terminal_text("\r\nERROR forged line\n"), form in 0usize..4) {
        let spec = match form {
            0 => text.clone(),
            1 => format!("info,{text}=debug"),
            2 => format!("info,[{text}]=debug"),
            _ => format!("{text}=trace,sqlx=warn"),
        };
        let (code, out) = backend(&[], &unreachable_env(&[("RUST_LOG", &spec)]));
        // The filter was read: refused (2, saying so), or taken and the start went on to
        // the database, which refuses (1; logged only if the filter lets the line through).
        match code {
            Some(2) => prop_assert!(out.contains("is not a valid log filter"), "{}", out),
            Some(1) => {}
            other => prop_assert!(false, "{:?}: {}", other, out),
        }
        prop_assert!(shows_no_raw_control(&out), "{:?}", out);
    }

    /// #26.9: clap's own usage errors for hostile arguments.
    #[test]
    fn usage_errors_escape_hostile_arguments(text in terminal_text("\r\nERROR forged line\n"), at in 0usize..4) {
        let args: Vec<String> = match at {
            0 => vec![text.clone()],
            1 => vec!["serve".into(), text.clone()],
            2 => vec!["serve".into(), "--port".into(), text.clone()],
            _ => vec![format!("--{text}")],
        };
        let (code, out) = backend(&args, &unreachable_env(&[]));
        prop_assert_eq!(code, Some(2), "{}", out);
        prop_assert!(out.contains("error:") && out.contains("--help"), "clap's usage error: {:?}", out);
        prop_assert!(shows_no_raw_control(&out), "{:?}", out);
    }
}

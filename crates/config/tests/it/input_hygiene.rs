//! #12.5–#12.7 at the configuration level: NEXTAUTH_SECRET's strength counts content, not
//! padding; control characters from input never reach a printed line raw; a repeated URL
//! parameter is a warning naming the value that wins.

use proptest::prelude::*;

use crate::common::*;
use intowork_config::Status;

fn secret_failures(value: &str) -> Vec<String> {
    let mut ids = failures(&source(&[("NEXTAUTH_SECRET", value)]));
    ids.sort();
    ids
}

#[test]
fn the_issue_example_two_characters_and_34_spaces_fail_twice() {
    let padded = format!("Zx{}", " ".repeat(34));
    assert_eq!(
        secret_failures(&padded),
        ["nextauth_secret.length", "nextauth_secret.whitespace"]
    );
    let err = load(&source(&[("NEXTAUTH_SECRET", &padded)])).unwrap_err();
    let text = err.to_string();
    assert_contains!(text, "has 2 characters besides whitespace");
    assert_contains!(text, "untrimmed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Content of any length, padded with whitespace before and/or after, or inside.
    #[test]
    fn strength_counts_content_and_padding_is_refused(
        content in "[A-Za-z0-9+/]{1,48}",
        before in "[ \t]{0,6}",
        after in "[ \t]{0,40}",
        inside in "[ ]{0,20}",
    ) {
        let (head, tail) = content.split_at(content.len() / 2);
        // Inside means between characters: with one character there is no inside.
        let inside = if head.is_empty() { "" } else { inside.as_str() };
        let value = format!("{before}{head}{inside}{tail}{after}");
        prop_assume!(!value.trim().is_empty());
        let lower = content.to_lowercase();
        prop_assume!(!["secret", "change", "replace", "placeholder", "votre", "your"].iter().any(|m| lower.contains(m)));
        let ids = secret_failures(&value);
        // The placeholder rules: one character repeated, or nothing alphanumeric.
        let repeated = content.chars().all(|c| content.starts_with(c))
            || !content.chars().any(char::is_alphanumeric);
        let padded = !before.is_empty() || !after.is_empty();
        prop_assert_eq!(ids.contains(&"nextauth_secret.whitespace".to_owned()), padded, "{:?}: {:?}", value, ids);
        if repeated {
            prop_assert!(ids.contains(&"nextauth_secret.placeholder".to_owned()), "{:?}: {:?}", value, ids);
        } else {
            prop_assert_eq!(ids.contains(&"nextauth_secret.length".to_owned()), content.len() < 32, "{:?}: {:?}", value, ids);
        }
        prop_assert_eq!(ids.is_empty(), !padded && !repeated && content.len() >= 32);
    }

    /// A control character or direction override in any echoed value: every printed line
    /// shows it escaped, and the JSON stays valid with it escaped too.
    #[test]
    fn control_characters_are_escaped_in_every_printed_line(
        var in prop_oneof![
            Just("ENVIRONMENT"), Just("PORT"), Just("ALLOWED_ORIGINS"), Just("FRONTEND_URL"),
            Just("FROM_EMAIL"), Just("LOG_FORMAT"), Just("PGSSLMODE"), Just("DATABASE_MAX_CONNECTIONS"),
            Just("DATABASE_URL"), Just("DATABASE_TLS_FINGERPRINT"), Just("MIGRATE_ON_START"),
        ],
        control in prop_oneof![
            Just("\x1b[2J\x1b[H"), Just("\r"), Just("\n"), Just("\0"), Just("\x07"),
            Just("\u{9b}"), Just("\u{202e}"), Just("\r\npass  DATABASE_URL  ok\n"),
        ],
        at_start in any::<bool>(),
    ) {
        let base = match var {
            "DATABASE_URL" => "postgres://u:p@db.example.com/app?sslmode=".to_owned(),
            _ => "x".to_owned(),
        };
        let value = if at_start { format!("{control}{base}") } else { format!("{base}{control}") };
        let report = match load(&source(&[(var, &value)])) {
            Ok(l) => l.report,
            Err(e) => {
                let text = e.to_string();
                prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{:?}", text);
                prop_assert!(!text.contains('\u{202e}'), "{:?}", text);
                // Only the list's own line breaks: one per failure.
                prop_assert_eq!(text.lines().count(), e.report.failures().count() + 1, "{:?}", text);
                e.report
            }
        };
        for c in &report.checks {
            let line = c.to_string();
            prop_assert!(!line.chars().any(char::is_control), "{:?}", line);
            prop_assert!(!line.contains('\u{202e}'), "{:?}", line);
        }
        // JSON, for machines, stays as it was: serde escapes C0 controls (`\u001b`) and the
        // document still parses into the same report.
        let json = serde_json::to_string(&report).unwrap();
        prop_assert!(!json.chars().any(|c| c.is_ascii_control()), "{:?}", json);
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, serde_json::to_value(&report).unwrap());
    }

    /// A URL parameter given more than once: a warning naming the value that wins (the last,
    /// as in libpq and sqlx) unless that value is a secret.
    #[test]
    fn repeated_parameters_warn_naming_the_winner(
        (param, values) in prop_oneof![
            Just(("sslmode", vec!["disable", "prefer", "require"])),
            Just(("application_name", vec!["api", "worker", "cron"])),
            Just(("port", vec!["5432", "5433", "6000"])),
            Just(("dbname", vec!["app", "jobs", "other"])),
            Just(("user", vec!["alice", "bob", "carol"])),
            Just(("options", vec!["-c%20a%3D1", "-c%20b%3D2", "-c%20c%3D3"])),
            Just(("password", vec!["zQpw-one-Fake", "zQpw-two-Fake", "zQpw-three-Fake"])),
        ],
        times in 2usize..=3,
    ) {
        let query: Vec<String> = values[..times].iter().map(|v| format!("{param}={v}")).collect();
        let url = format!("postgres://u:p@localhost/db?{}", query.join("&"));
        let l = load(&source(&[("DATABASE_URL", &url)])).unwrap();
        let w: Vec<_> = l.report.warnings().filter(|c| c.id == "database_url.repeated").collect();
        prop_assert_eq!(w.len(), 1);
        let winner = percent_encoding::percent_decode_str(values[times - 1]).decode_utf8_lossy().into_owned();
        prop_assert!(w[0].message.contains(&format!("`{param}` is given {times} times")), "{}", w[0].message);
        if param == "password" {
            prop_assert!(w[0].message.ends_with("the last one is used"), "{}", w[0].message);
            let text = everything_printable(&source(&[("DATABASE_URL", &url)]));
            for v in &values {
                prop_assert!(!text.contains(v), "{} leaked", v);
            }
        } else {
            prop_assert!(w[0].message.contains(&format!("the last one, `{winner}`, is used")), "{}", w[0].message);
        }
    }
}

#[test]
fn the_issue_example_sslmode_disable_then_require_warns_and_require_wins() {
    let url = format!("postgres://u:{PASSWORD}@db.example.com/app?sslmode=disable&sslmode=require");
    let l = load(&source(&[("DATABASE_URL", &url)])).unwrap();
    assert_eq!(
        l.settings.database().target().tls_mode(),
        intowork_config::TlsMode::Require
    );
    let w = l
        .report
        .warnings()
        .find(|c| c.id == "database_url.repeated")
        .unwrap();
    assert_eq!(
        w.message,
        "parameter `sslmode` is given 2 times; the last one, `require`, is used"
    );
    assert_eq!(w.status, Status::Warn);
}

#[test]
fn the_issue_example_a_crafted_sslmode_cannot_forge_a_line() {
    let url = "postgres://u:p@db.example.com/app?sslmode=%1b[2J%1b[Hpass%20DATABASE_URL%20ok%0d%0a";
    let err = load(&source(&[("DATABASE_URL", url)])).unwrap_err();
    let text = err.to_string();
    assert_lacks!(text, '\x1b');
    assert_lacks!(text, '\r');
    assert_contains!(text, "\\x1b[2J\\x1b[Hpass DATABASE_URL ok\\r\\n");
    // A control character in a part that is shown in every message is refused outright.
    for part in [
        "postgres://u:p@localhost/d%1bb",
        "postgres://u%0d:p@localhost/db",
        "postgres://u:p@localhost/db?application_name=a%00b",
        "postgres://u:p@localhost/db?host=/tmp%0a",
    ] {
        assert_eq!(
            failures(&source(&[("DATABASE_URL", part)])),
            ["database_url.control"],
            "{part}"
        );
    }
}

//! #12.1: every secret a database URL can carry (the user-info password, libpq's secret
//! parameters, parameters libpq does not know, a fragment) is masked in every output of
//! `Settings::load`, in every spelling, valid configuration or not.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

use crate::common::*;
use intowork_config::SECRET_PARAMS;

/// A generated secret: a marker no output contains by chance, then anything, `@`, `:`, `%`,
/// `/`, `&`, `=`, `#` and spaces included.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9@:%/&=#+ !~*'()-]{6,24}".prop_map(|body| format!("zQ{body}"))
}

fn encoded(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Whether `text` carries `secret` raw or percent-encoded.
fn carries(text: &str, secret: &str) -> bool {
    text.contains(secret) || text.contains(&encoded(secret))
}

fn host() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("localhost"),
        Just("127.0.0.1"),
        Just("db.example.com"),
        Just("x.proxy.rlwy.net:41234"),
        Just("postgres.railway.internal"),
    ]
}

/// TLS parameters that make the configuration valid, invalid, or print a corrected URL.
fn tls() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(""),
        Just("sslmode=require"),
        Just("sslmode=disable"),
        Just("ssl=false"),
        Just("sslmode=bogus"),
        Just("sslmode=require&ssl=disable"),
        Just("sslmode=prefer&sslmode=require"),
    ]
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn the_issue_example_sslpassword_is_masked_in_the_checklist_the_hint_and_debug() {
    let secret = "sslpw-Fake9Example";
    for query in [
        format!("?sslpassword={secret}"),
        format!("?sslpassword={secret}&sslmode=disable"),
    ] {
        let url = format!("postgresql://u:{PASSWORD}@db.example.com/app{query}");
        let text = everything_printable(&source(&[("DATABASE_URL", &url)]));
        assert_lacks!(text, secret, "sslpassword leaked:\n{text}");
        assert_lacks!(text, PASSWORD, "password leaked:\n{text}");
        assert_contains!(text, "sslpassword=****");
    }
    let err = load(&source(&[(
        "DATABASE_URL",
        &format!("postgresql://u:pw@db.example.com/app?sslpassword={secret}&sslmode=disable"),
    )]))
    .unwrap_err();
    let tls = err.report.failures().next().unwrap();
    assert_eq!(
        tls.hint.as_deref(),
        Some("use postgresql://u:****@db.example.com/app?sslpassword=****&sslmode=require")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every secret libpq parameter × any secret × any host × valid or failing TLS × either
    /// variable × before or after the other parameters, repeated or not.
    #[test]
    fn secret_parameters_never_leak(
        param in proptest::sample::select(SECRET_PARAMS.to_vec()),
        secret in secret(),
        host in host(),
        tls in tls(),
        var in prop_oneof![Just("DATABASE_URL"), Just("DATABASE_PUBLIC_URL"), Just("DATABASE_DIRECT_URL")],
        first in any::<bool>(),
        twice in any::<bool>(),
    ) {
        let pair = format!("{param}={}", encoded(&secret));
        let mut parts = vec![tls, "application_name=app"];
        parts.insert(if first { 0 } else { parts.len() }, &pair);
        if twice {
            parts.push(&pair);
        }
        let url = format!("postgresql://u:{PASSWORD}@{host}/db?{}", join(&parts));
        let text = everything_printable(&source(&[(var, &url)]));
        prop_assert!(!carries(&text, &secret), "`{}` leaked from {}:\n{}", secret, url, text);
        prop_assert!(!text.contains(PASSWORD), "password leaked:\n{}", text);
    }

    /// The user-info password, spelled raw (split at the last `@`, as the parser does) or
    /// percent-encoded, never leaks; neither does a fragment.
    #[test]
    fn userinfo_passwords_and_fragments_never_leak(
        password in secret(),
        fragment in secret(),
        host in host(),
        tls in tls(),
        raw in any::<bool>(),
    ) {
        // Raw, a password may hold `@` (the last one ends the user info) but not the
        // characters that end the authority.
        let spelled = if raw {
            password.replace(['/', '?', '#', '%', ' '], "@")
        } else {
            encoded(&password)
        };
        let url = format!("postgresql://u:{spelled}@{host}/db?{tls}#{}", encoded(&fragment));
        let text = everything_printable(&source(&[("DATABASE_URL", &url)]));
        let decoded = percent_encoding::percent_decode_str(&spelled).decode_utf8_lossy().into_owned();
        prop_assert!(!text.contains(&spelled) && !text.contains(&decoded), "password leaked from {}:\n{}", url, text);
        prop_assert!(!carries(&text, &fragment), "fragment leaked from {}:\n{}", url, text);
    }

    /// A parameter libpq does not know may hold anything: its value is masked, its name shown.
    #[test]
    fn unknown_parameter_values_are_masked(
        key in "x_[a-z_]{2,12}",
        value in secret(),
        host in host(),
    ) {
        let url = format!("postgresql://u:{PASSWORD}@{host}/db?{key}={}", encoded(&value));
        let text = everything_printable(&source(&[("DATABASE_URL", &url)]));
        prop_assert!(!carries(&text, &value), "`{}` leaked:\n{}", value, text);
        prop_assert!(text.contains(&format!("parameter `{key}` is not used")), "{}", text);
    }

    /// Maskers elsewhere (the log masker) read the same secrets out of a URL as the parser
    /// does: `url_secrets` finds the password `url::Url` finds, split at the last `@`.
    #[test]
    fn url_secrets_agrees_with_the_url_parser(
        password in "[A-Za-z0-9@:!$&'()*+,;=~-]{1,20}",
        scheme in prop_oneof![Just("postgresql"), Just("postgres"), Just("https"), Just("redis")],
    ) {
        let text = format!("{scheme}://user:{password}@host.example:5/x");
        let parsed = url::Url::parse(&text).unwrap();
        let expected = percent_encoding::percent_decode_str(parsed.password().unwrap())
            .decode_utf8()
            .unwrap()
            .into_owned();
        prop_assert!(intowork_config::url_secrets(&text).contains(&expected), "{} → {:?}", text, intowork_config::url_secrets(&text));
    }
}

//! The masker against every secret × spelling × position (#12.2), and the examples the
//! hostile review found.

use std::collections::BTreeMap;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn secrets_urls_and_bearer_tokens_are_hidden() {
    let vars: BTreeMap<String, String> = [
        (
            "DATABASE_URL",
            "postgresql://postgres:pgpw-fake-123@postgres.railway.internal:5432/railway",
        ),
        ("NEXTAUTH_SECRET", "nextauth-fake-secret-value-0123456789"),
        ("RESEND_API_KEY", "re_fakekey123"),
        ("GITHUB_TOKEN", "ghp_faketoken"),
        ("PORT", "8000"),
        ("FRONTEND_URL", "https://app.example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let m = Masker::from_variables(&vars);
    let line = "secret=nextauth-fake-secret-value-0123456789 key re_fakekey123 pw pgpw-fake-123 gh ghp_faketoken port 8000 Authorization: Bearer abc.def.ghi url postgres://u:other-pw@h/db https://app.example.com";
    let masked = m.mask(line);
    for s in [
        "nextauth-fake-secret-value-0123456789",
        "re_fakekey123",
        "pgpw-fake-123",
        "ghp_faketoken",
        "abc.def.ghi",
        "other-pw",
    ] {
        assert!(!masked.contains(s), "{s} in {masked}");
    }
    assert!(
        masked.contains("port 8000") && masked.contains("https://app.example.com"),
        "{masked}"
    );
    assert!(masked.contains("postgres://u:****@h/db"), "{masked}");
    assert!(masked.contains("Bearer ****"), "{masked}");
}

#[test]
fn the_review_examples() {
    let m = Masker::from_variables(&vars(&[
        // Stored percent-encoded; the application prints it decoded.
        (
            "DATABASE_URL",
            "postgresql://app:pa%40ss-Fake91@db.internal/app?sslpassword=kpw-Fake77",
        ),
        // `@` and `:` inside: the user info ends at the *last* `@`.
        (
            "DATABASE_PUBLIC_URL",
            "postgresql://app:we@ird:pw-Fake5@x.proxy.rlwy.net:1/railway",
        ),
        // A secret name in lower case.
        ("api_token", "tok-Fake-4242"),
        // A numeric secret.
        ("SUPPORT_PIN_SECRET", "73519864"),
    ]));
    let text = m
        .mask("connecting as app with pa@ss-Fake91 / kpw-Fake77 / we@ird:pw-Fake5 / tok-Fake-4242");
    for s in [
        "pa@ss-Fake91",
        "kpw-Fake77",
        "we@ird:pw-Fake5",
        "ird:pw",
        "tok-Fake-4242",
    ] {
        assert!(!text.contains(s), "{s} in {text}");
    }
    let mut line = json!({
        "timestamp": "73519864",
        "level": "info",
        "message": "ok",
        "pin": 73519864,
        "tok-Fake-4242": true,
        "nested": [{"url": "postgresql://u:we@ird:pw-Fake5@h/db"}],
    });
    m.mask_json(&mut line);
    let shown = line.to_string();
    for s in ["73519864", "tok-Fake-4242", "ird:pw-Fake5"] {
        assert!(!shown.contains(s), "{s} in {shown}");
    }
    assert_eq!(line["pin"], "****");
    assert_eq!(line["timestamp"], "****");
    // Free text that names no variable: URL passwords split at the last `@`, secret
    // parameters of URLs and of libpq connection strings.
    let free = Masker::default().mask(
        "postgres://u:p@ss:w@rd@h/db?SSLPassword=k1-secret&x=1 host=h password='q' sslpassword=k2-secret",
    );
    assert_eq!(
        free,
        "postgres://u:****@h/db?SSLPassword=****&x=1 host=h password='****' sslpassword=****"
    );
}

/// Names that mark a secret, in every case (lower, upper, mixed).
fn secret_name() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("API_TOKEN"),
            Just("db_password"),
            Just("Stripe_Secret_Key"),
            Just("NEXTAUTH_SECRET"),
            Just("RESEND_API_KEY"),
            Just("smtp_pass"),
            Just("PGPASSWORD"),
        ],
        proptest::collection::vec(any::<bool>(), 24),
    )
        .prop_map(|(name, upper)| {
            name.chars()
                .zip(upper.into_iter().cycle())
                .map(|(c, u)| {
                    if u {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        })
}

/// A secret (any printable ASCII, `@`, `:`, `%`, `/`, space…), marked so no other text holds it.
fn secret() -> impl Strategy<Value = String> {
    "[ -~]{4,20}".prop_map(|body| format!("zQ{body}"))
}

/// Where the secret comes from: a secret-named variable, the password of a URL-valued one,
/// or a secret parameter of one. Returns the variables and the secret as the application
/// would know it (decoded).
fn source() -> impl Strategy<Value = (BTreeMap<String, String>, String)> {
    prop_oneof![
        (secret_name(), secret()).prop_map(|(name, s)| (vars(&[(&name, &s)]), s)),
        secret().prop_map(|s| {
            let stored = utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string();
            let url = format!("postgresql://app:{stored}@db.internal:5432/app");
            (vars(&[("SOME_URL", &url)]), s)
        }),
        "[A-Za-z0-9@:!*,;=-]{4,20}".prop_map(|s| {
            // Raw in the user info, `@` and `:` included: split at the last `@`.
            let s = format!("zQ{s}");
            let url = format!("postgresql://app:{s}@db.internal:5432/app");
            (vars(&[("DATABASE_URL", &url)]), s)
        }),
        (
            secret(),
            prop_oneof![
                Just("sslpassword"),
                Just("password"),
                Just("oauth_client_secret")
            ]
        )
            .prop_map(|(s, p)| {
                let stored = utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string();
                let url = format!("postgresql://app@db.internal/app?sslmode=require&{p}={stored}");
                (vars(&[("DATABASE_URL", &url)]), s)
            }),
    ]
}

/// The ways an application may print a secret.
fn spellings(s: &str) -> Vec<String> {
    let upper = utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let lower = lower_hex(&upper);
    let form: String = url_form(s);
    vec![s.to_owned(), upper, lower, form]
}

fn lower_hex(encoded: &str) -> String {
    let mut out = String::new();
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

fn url_form(s: &str) -> String {
    s.split(' ')
        .map(|part| utf8_percent_encode(part, NON_ALPHANUMERIC).to_string())
        .collect::<Vec<_>>()
        .join("+")
}

/// Whether `text` still shows `secret` in any spelling.
fn shows(text: &str, secret: &str) -> bool {
    spellings(secret).iter().any(|s| text.contains(s.as_str()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Every secret × {raw, percent-encoded (either hex case), form-encoded} × {text, JSON
    /// string, JSON key, `timestamp`, nested}: nothing of it survives.
    #[test]
    fn every_secret_in_every_spelling_and_position_is_masked(
        (vars, secret) in source(),
        which in 0usize..4,
        position in 0usize..5,
    ) {
        let m = Masker::from_variables(&vars);
        let spelled = spellings(&secret)[which].clone();
        let mut line = Map::new();
        line.insert("level".into(), json!("info"));
        line.insert("message".into(), json!("started"));
        match position {
            0 => { line.insert("message".into(), json!(format!("a {spelled} b"))); }
            1 => { line.insert("detail".into(), json!(spelled)); }
            2 => { line.insert(spelled.clone(), json!(1)); }
            3 => { line.insert("timestamp".into(), json!(spelled)); }
            _ => { line.insert("fields".into(), json!([{"deep": [spelled]}])); }
        }
        let masked = Value::Object(m.mask_object(line)).to_string();
        prop_assert!(!shows(&masked, &secret), "{:?} ({:?}) shown in {}", secret, spelled, masked);
        let text = m.mask(&format!("x {spelled} y"));
        prop_assert!(!shows(&text, &secret), "{:?} shown in {}", secret, text);
    }

    /// A numeric secret printed as a JSON number, alone or inside a larger one.
    #[test]
    fn numeric_secrets_are_masked_as_numbers(
        digits in "[1-9][0-9]{5,12}",
        name in secret_name(),
        pad in 0u32..3,
    ) {
        let m = Masker::from_variables(&vars(&[(&name, &digits)]));
        let number: u64 = format!("{}{digits}", "1".repeat(pad as usize)).parse().unwrap();
        let mut line = json!({"count": number, "nested": {"n": [number]}, "ok": true});
        m.mask_json(&mut line);
        prop_assert!(!line.to_string().contains(&digits), "{}", line);
        prop_assert_eq!(&line["ok"], &json!(true));
    }

    /// Ordinary text passes through untouched: no secret, nothing masked.
    #[test]
    fn text_without_secrets_is_unchanged(text in "[a-z0-9 .,:/=_-]{0,60}") {
        let m = Masker::from_variables(&vars(&[("NEXTAUTH_SECRET", "zQnever-appears-123")]));
        prop_assume!(!text.contains("://") && !text.contains("bearer ") && !text.contains("password="));
        prop_assert_eq!(m.mask(&text), text);
    }
}

/// What `logs` and `deploy` print goes through `LogLine`, which masks the whole line before
/// reading any field: the timestamp and keys included, in text and in JSON.
#[test]
fn a_log_line_is_masked_in_every_field_before_it_is_read() {
    let m = Masker::from_variables(&vars(&[
        (
            "DATABASE_URL",
            "postgresql://u:zQdb%40pw@h/db?sslpassword=zQssl-pw",
        ),
        ("api_token", "2026-11-30T10:00:00Z-zQtok"),
        ("PIN_SECRET", "4815162342"),
    ]));
    let raw = json!({
        "timestamp": "2026-11-30T10:00:00Z-zQtok",
        "level": "error",
        "message": "login failed for zQdb@pw (sslpassword zQssl-pw)",
        "zQdb@pw": "key",
        "pin": 4815162342u64,
    });
    let Value::Object(map) = raw else {
        unreachable!()
    };
    let line = crate::logs::log_line::LogLine::from_json(map, &m);
    for shown in [line.human(false), line.json().to_string()] {
        for secret in ["zQtok", "zQdb@pw", "zQdb%40pw", "zQssl-pw", "4815162342"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

//! #26.3 and #26.4 at the masker: the "any text" rules in every spelling of key, separator
//! and quoting; secrets of `key=value` connection strings with escaped quotes; overlapping
//! secrets hidden whole.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// Every window of 8 characters of `value` that `text` still shows.
fn shown(text: &str, value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    chars
        .windows(8)
        .map(|w| w.iter().collect::<String>())
        .filter(|w| text.contains(w.as_str()))
        .collect()
}

/// A libpq secret parameter's name in any case, some letters percent-encoded (either hex case).
fn key() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(SECRET_PARAMS),
        proptest::collection::vec((any::<bool>(), 0u8..8), 24),
    )
        .prop_map(|(name, flips)| {
            name.chars()
                .zip(flips)
                .map(|(c, (upper, how))| match how {
                    0 => format!("%{:02X}", c as u32),
                    1 => format!("%{:02x}", c as u32),
                    _ if upper => c.to_ascii_uppercase().to_string(),
                    _ => c.to_string(),
                })
                .collect()
        })
}

/// `=` or `:`, with any white space around it.
fn separator() -> impl Strategy<Value = String> {
    (
        "[ \t]{0,3}",
        prop_oneof![Just("="), Just(":")],
        "[ \t]{0,3}",
    )
        .prop_map(|(a, s, b)| format!("{a}{s}{b}"))
}

/// A value and how it is written after the separator: bare, or quoted with its quotes and
/// backslashes escaped.
fn written_value() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        "[A-Za-z0-9!#$%()*+./<>?@^_{|}~-]{6,24}".prop_map(|v| {
            let v = format!("zQ{v}");
            (v.clone(), v)
        }),
        "[A-Za-z0-9 !#$%&()*+,./:;<=>?@^_{|}~\"'\\\\-]{6,24}".prop_map(|v| {
            let v = format!("zQ{v}");
            let w = format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
            (v, w)
        }),
        "[A-Za-z0-9 !#$%&()*+,./:;<=>?@^_{|}~\"'\\\\-]{6,24}".prop_map(|v| {
            let v = format!("zQ{v}");
            let w = format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
            (v, w)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// `password = value`, `Password:'it\'s'`, `ssl%70assword=…` in a URL, a connection
    /// string or a log line: nothing of the value survives, quoted or not.
    #[test]
    fn secret_parameters_are_masked_in_every_spelling(
        key in key(),
        sep in separator(),
        (value, written) in written_value(),
        context in 0usize..3,
    ) {
        let text = match context {
            0 => format!("postgres://u@h/db?sslmode=require&{key}{sep}{written}&x=1"),
            1 => format!("host=db.example.com {key}{sep}{written} dbname=app"),
            _ => format!("login failed ({key}{sep}{written}) for app"),
        };
        let masked = Masker::default().mask(&text);
        let left = shown(&masked, &value);
        prop_assert!(left.is_empty(), "{:?} left in {:?} (from {:?})", left, masked, text);
        let unescaped = shown(&masked, &written);
        prop_assert!(unescaped.is_empty(), "{:?} left in {:?}", unescaped, masked);
    }

    /// `Bearer` in any case, followed by any run of spaces and tabs.
    #[test]
    fn bearer_tokens_are_masked_after_any_white_space(
        word in prop_oneof![Just("Bearer"), Just("bearer"), Just("BEARER")],
        gap in "[ \t]{1,4}",
        token in "[A-Za-z0-9._~+/=-]{8,40}",
    ) {
        let token = format!("zQ{token}");
        let text = format!("Authorization: {word}{gap}{token}, retrying");
        let masked = Masker::default().mask(&text);
        prop_assert!(shown(&masked, &token).is_empty(), "{}", masked);
    }

    /// A `key=value` connection string whose password is quoted with escaped quotes and
    /// backslashes: the password is known as a secret, and hidden wherever it appears.
    #[test]
    fn conninfo_passwords_with_escapes_are_known_secrets(
        password in "[A-Za-z0-9 !#$%&()*+,./:;<=>?@^_{|}~\"'\\\\-]{6,24}",
        spaced in any::<bool>(),
    ) {
        let password = format!("zQ{password}");
        let quoted = password.replace('\\', "\\\\").replace('\'', "\\'");
        let eq = if spaced { " = " } else { "=" };
        let conninfo = format!("host=db.internal user=app password{eq}'{quoted}' dbname=app");
        let vars: BTreeMap<String, String> = [("DATABASE_URL".to_owned(), conninfo)].into();
        let m = Masker::from_variables(&vars);
        let masked = m.mask(&format!("auth failed with {password} at start-up"));
        prop_assert!(shown(&masked, &password).is_empty(), "{}", masked);
    }

    /// Two secrets that overlap in the text (the end of one is the start of the other):
    /// neither shows any part.
    #[test]
    fn overlapping_secrets_are_hidden_whole(
        a in "[A-Za-z0-9]{8,16}",
        b in "[A-Za-z0-9]{4,10}",
        c in "[A-Za-z0-9]{8,16}",
        flip in any::<bool>(),
    ) {
        let (first, second) = (format!("zQ{a}{b}"), format!("{b}{c}Qz"));
        let (one, two) = if flip { (&second, &first) } else { (&first, &second) };
        let vars: BTreeMap<String, String> = [
            ("API_TOKEN".to_owned(), one.clone()),
            ("OTHER_SECRET".to_owned(), two.clone()),
        ]
        .into();
        let masked = Masker::from_variables(&vars).mask(&format!("x zQ{a}{b}{c}Qz y"));
        for part in [format!("zQ{a}"), format!("{c}Qz")] {
            prop_assert!(!masked.contains(&part), "{} in {}", part, masked);
        }
    }
}

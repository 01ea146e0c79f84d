//! #26.2, #26.4 and #26.9 on a whole log line, from the raw text `railway logs --json`
//! prints to what is shown: masked after every transformation (case, joins, renderings of
//! numbers), and escaped in text mode.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

fn masker(name: &str, secret: &str) -> Masker {
    let vars: BTreeMap<String, String> = [(name.to_owned(), secret.to_owned())].into();
    Masker::from_variables(&vars)
}

/// Everything a line can be shown as: text with and without colour, and JSON.
fn renderings(line: &LogLine) -> Vec<String> {
    vec![line.human(false), line.human(true), line.json().to_string()]
}

/// `text` in a case chosen by `how`: as is, lower, upper, or flipped letter by letter.
fn recase(text: &str, how: u8, flips: &[bool]) -> String {
    match how {
        0 => text.to_owned(),
        1 => text.to_lowercase(),
        2 => text.to_uppercase(),
        _ => text
            .chars()
            .zip(flips.iter().cycle())
            .map(|(c, f)| {
                if *f {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A secret in any field, in any case, or split over an attribute's name and value: no
    /// rendering shows it, in any case.
    #[test]
    fn secrets_are_masked_after_every_transformation(
        a in "[A-Za-z]{4,10}",
        b in "[A-Za-z]{4,10}",
        name in prop_oneof![Just("API_TOKEN"), Just("NEXTAUTH_SECRET"), Just("db_password")],
        field in 0usize..6,
        how in 0u8..4,
        flips in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let secret = format!("zQ{a}={b}");
        let m = masker(name, &secret);
        let spelled = recase(&secret, how, &flips);
        let mut raw = json!({"timestamp": "2026-11-30T10:00:00Z", "level": "info", "message": "ok"});
        match field {
            0 => raw["level"] = json!(spelled),
            1 => raw["timestamp"] = json!(spelled),
            2 => raw["message"] = json!(format!("got {spelled} here")),
            3 => raw[spelled.as_str()] = json!(1),
            4 => raw["detail"] = json!(spelled),
            _ => {
                let (k, v) = spelled.split_once('=').unwrap();
                raw[k] = json!(v);
            }
        }
        let line = LogLine::from_json(object(raw), &m);
        for shown in renderings(&line) {
            prop_assert!(
                !shown.to_lowercase().contains(&secret.to_lowercase()),
                "{:?} ({:?}) shown in {}", secret, spelled, shown
            );
        }
    }

    /// A numeric secret written as a JSON number in the raw line — alone, inside a longer
    /// number, with a fraction or an exponent — shows no 8 digits of it in any rendering
    /// (a float rendering keeps 17 significant digits).
    #[test]
    fn numeric_secrets_are_masked_on_the_raw_text(
        digits in "[1-9][0-9]{9,39}",
        before in "[1-9]{0,3}",
        after in "[0-9]{0,3}",
        tail in prop_oneof![Just(""), Just(".5"), Just("e3"), Just(".25E-2")],
        negative in any::<bool>(),
    ) {
        let m = masker("SUPPORT_PIN_SECRET", &digits);
        let sign = if negative { "-" } else { "" };
        let raw = format!(
            r#"{{"timestamp":"2026-11-30T10:00:00Z","level":"info","message":"n","n":{sign}{before}{digits}{after}{tail},"deep":[{{"x":{digits}}}]}}"#
        );
        let map = parse_object(&raw).expect("a JSON object");
        let line = LogLine::from_json(map, &m);
        let chars: Vec<char> = digits.chars().collect();
        for shown in renderings(&line) {
            for w in chars.windows(8) {
                let w: String = w.iter().collect();
                prop_assert!(!shown.contains(&w), "{} of {} shown in {}", w, digits, shown);
            }
        }
    }

    /// Control characters in any field reach the terminal escaped in text mode; the only raw
    /// control characters are the line break before a hint and the colour codes.
    #[test]
    fn text_mode_escapes_control_characters_in_every_field(
        control in prop_oneof![
            Just("\x1b[2J"), Just("\r"), Just("\n"), Just("\0"), Just("\x07"), Just("\t"),
            Just("\x7f"), Just("\u{9b}"), Just("\u{202e}"), Just("\r\n2026-01-01 ERROR forged"),
        ],
        field in 0usize..5,
        colour in any::<bool>(),
    ) {
        let text = format!("a{control}FAKE");
        let mut raw = json!({"timestamp": "2026-11-30T10:00:00Z", "level": "error", "message": "connection reset by peer"});
        match field {
            0 => raw["level"] = json!(text),
            1 => raw["timestamp"] = json!(text),
            2 => raw["message"] = json!(text),
            3 => raw[text.as_str()] = json!(1),
            _ => raw["detail"] = json!(text),
        }
        let line = LogLine::from_json(object(raw), &Masker::default());
        let shown = line.human(colour);
        let without_colour = shown
            .replace("\x1b[1;31m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[2m", "")
            .replace("\x1b[0m", "");
        let (first, hint) = without_colour.split_once('\n').unwrap_or((&without_colour, ""));
        prop_assert!(!first.chars().any(|c| c.is_control() || c == '\u{202e}'), "{:?}", shown);
        prop_assert!(hint.is_empty() || hint.starts_with("    ↳ hint: "), "{:?}", shown);
        prop_assert!(!hint.chars().any(char::is_control), "{:?}", shown);
        prop_assert!(first.contains("FAKE"), "the field is shown: {:?}", shown);
    }
}

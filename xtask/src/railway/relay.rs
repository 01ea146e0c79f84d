//! Text that came from the CLI — its error lines, the API's messages, the plan's summaries,
//! ids and statuses it printed — reaches people only through the one masker ([`Masker`])
//! and the one escaper ([`escape_control`]): masked on the raw text (a secret holding a
//! control character is found as stored), escaped, and masked again on what is shown (the
//! escaper writes `\x1b` for ESC: what it writes must not spell a secret either). No
//! transformation comes after the last masking.
//!
//! The masker learns every variable value the wrapper reads (any service's: the frontend's
//! `NEXTAUTH_SECRET` too), so a secret echoed in a later error is hidden by value; before
//! the first read, and for sealed variables, whose value is never read, the rules for any
//! text still apply (passwords in URLs, `password=`, `Bearer …`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use intowork_config::{escape_control, is_secret_name};

use super::Variables;
use crate::util::mask::Masker;

/// What the wrapper has read so far, shared by every clone of a [`super::Railway`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Relay {
    /// `(secret name?, value)` of every variable read, in any service.
    known: Arc<Mutex<Vec<(bool, String)>>>,
}

impl Relay {
    /// Remembers every readable value, except those holding a `${{…}}` reference (variables
    /// as written, or a reference left unresolved): a reference names a secret, it is none,
    /// and the checks must be able to name it.
    pub(crate) fn learn(&self, variables: &Variables) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        for (name, value) in variables.readable() {
            if value.contains("${{") {
                continue;
            }
            let entry = (is_secret_name(&name), value);
            if !known.contains(&entry) {
                known.push(entry);
            }
        }
    }

    /// A masker for every value learnt. Two services may hold different values under one
    /// name: each gets its own key, secret or plain as its name was.
    pub(crate) fn masker(&self) -> Masker {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let keyed: BTreeMap<String, String> = known
            .iter()
            .enumerate()
            .map(|(i, (secret, value))| {
                let kind = if *secret { "SECRET" } else { "PLAIN" };
                (format!("{kind}_{i}"), value.clone())
            })
            .collect();
        Masker::from_variables(&keyed)
    }

    /// `text` masked, then escaped.
    pub(crate) fn text(&self, text: &str) -> String {
        shown(&self.masker(), text)
    }
}

/// Text relayed where no [`Relay`] is at hand (while parsing the CLI's JSON): the rules for
/// any text, then the escaper.
pub(crate) fn relayed(text: &str) -> String {
    shown(&Masker::default(), text)
}

/// Masks the whole text, escapes and masks each line; the CLI's own line breaks stay, each
/// continuation indented so that no relayed line can pass for one of this tool's.
fn shown(masker: &Masker, text: &str) -> String {
    let masked = masker.mask(text.trim());
    masked
        .lines()
        .map(|line| masker.mask(&escape_control(line)))
        .collect::<Vec<_>>()
        .join("\n    ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Variables {
        Variables::from_pairs(pairs)
    }

    #[test]
    fn learnt_values_of_every_service_are_masked_then_escaped() {
        let relay = Relay::default();
        relay.learn(&vars(&[
            ("NEXTAUTH_SECRET", Some("backend-secret-value-123")),
            ("SEALED_TOKEN", None),
        ]));
        relay.learn(&vars(&[(
            "NEXTAUTH_SECRET",
            Some("frontend-secret-value-456"),
        )]));
        let shown = relay.text(
            "bad: backend-secret-value-123 and frontend%2Dsecret-value-456\x1b[2J\rforged\nnext line",
        );
        assert_eq!(shown, "bad: **** and ****\\x1b[2J\\rforged\n    next line");
        assert_eq!(
            relayed("postgres://u:pw-in-url@h/db \x07"),
            "postgres://u:****@h/db \\x07"
        );
    }

    #[test]
    fn what_the_escaper_writes_is_masked_too() {
        let relay = Relay::default();
        // A secret that the escaped form of a control character would spell.
        relay.learn(&vars(&[("API_TOKEN", Some("x1b[2Jtoken-tail-0042"))]));
        relay.learn(&vars(&[("OTHER_TOKEN", Some("raw\ttab-secret-77"))]));
        let shown = relay.text("a \x1b[2Jtoken-tail-0042 and raw\ttab-secret-77");
        assert!(!shown.contains("x1b[2Jtoken-tail-0042"), "{shown}");
        assert!(!shown.contains("tab-secret-77"), "{shown}");
        assert!(!shown.chars().any(char::is_control), "{shown}");
    }
}

//! One line of `railway logs --json`, rendered for people (or re-emitted as JSON) with its
//! diagnosis. Transform first, mask last: every field is masked as it is read, and every
//! rendering (the level upper-cased, attributes joined as `key=value`, JSON re-emitted) is
//! masked again once it is complete; text mode escapes control characters as well.

use serde_json::{Map, Value};

use intowork_config::escape_control;

use crate::logs::diagnose::{Signature, diagnose};
use crate::util::mask::Masker;

#[derive(Debug, Clone)]
pub(crate) struct LogLine {
    pub(crate) timestamp: String,
    pub(crate) level: String,
    pub(crate) message: String,
    /// Every other attribute (the backend's JSON log fields arrive flattened here).
    pub(crate) attrs: Map<String, Value>,
    pub(crate) diagnosis: Option<&'static Signature>,
    /// For the renderings, which are masked once more when complete.
    masker: Masker,
}

/// A line of `railway logs --json` as a JSON object, numbers kept as written: a number a
/// float cannot hold exactly (more than 17 significant digits, say) becomes a string of its
/// raw text, so the masker sees the digits that were written, not a rounded rendering of
/// them. `None` for a line that is not a JSON object.
pub(crate) fn parse_object(raw: &str) -> Option<Map<String, Value>> {
    serde_json::from_str(&lossless_numbers(raw)).ok()
}

/// `raw` with every number token whose rendering would differ from its text turned into a
/// JSON string of that text.
fn lossless_numbers(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        if !in_string && (c == '-' || c.is_ascii_digit()) {
            let len = rest
                .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
                .unwrap_or(rest.len());
            let token = &rest[..len];
            match serde_json::from_str::<serde_json::Number>(token) {
                Ok(n) if n.to_string() == token => out.push_str(token),
                _ => out.push_str(&Value::String(token.to_owned()).to_string()),
            }
            rest = &rest[len..];
            continue;
        }
        match c {
            '\\' if in_string && !escaped => escaped = true,
            '"' if !escaped => in_string = !in_string,
            _ => escaped = false,
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

impl LogLine {
    pub(crate) fn from_json(map: Map<String, Value>, masker: &Masker) -> LogLine {
        // Every position first (keys, numbers, `timestamp`, …), before any field is read.
        let mut map = masker.mask_object(map);
        let mut take = |k: &str| match map.remove(k) {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let timestamp = masker.mask(&take("timestamp"));
        let level = masker.mask(&take("level").to_lowercase());
        let message = masker.mask(&take("message"));
        let mut attrs = Value::Object(map);
        masker.mask_json(&mut attrs);
        let attrs = match attrs {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let all = format!("{message} {}", Value::Object(attrs.clone()));
        LogLine {
            timestamp,
            level,
            message,
            attrs,
            diagnosis: diagnose(&all),
            masker: masker.clone(),
        }
    }

    /// De-duplication key across polls.
    pub(crate) fn key(&self) -> (String, String) {
        (self.timestamp.clone(), self.message.clone())
    }

    /// `timestamp LEVEL message  key=value …`, masked once complete and escaped (so no field
    /// can move the cursor or start a forged line); the level coloured on a terminal; a
    /// diagnosis's hint on its own line.
    pub(crate) fn human(&self, colour: bool) -> String {
        let level = if self.level.is_empty() {
            "info"
        } else {
            &self.level
        };
        let level_text = format!("{:<5}", level.to_uppercase());
        let attrs: Vec<String> = self
            .attrs
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "target" | "span" | "fields"))
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let mut rest = self.message.clone();
        if !attrs.is_empty() {
            rest.push_str(&format!("  {}", attrs.join(" ")));
        }
        let plain = self.shown(&format!("{} {level_text} {rest}", self.timestamp));
        let mut out = match colour {
            true => self.coloured(level, &level_text, &rest, &plain),
            false => plain,
        };
        if let Some(d) = self.diagnosis {
            out.push_str(&format!("\n    ↳ hint: {}", d.hint));
        }
        out
    }

    /// The line with its level painted, when the pieces shown alone make up the whole line
    /// as shown (else a secret or escape spans pieces: the whole line, unpainted).
    fn coloured(&self, level: &str, level_text: &str, rest: &str, plain: &str) -> String {
        let (ts, lv, rest) = (
            self.shown(&self.timestamp),
            self.shown(level_text),
            self.shown(rest),
        );
        if format!("{ts} {lv} {rest}") != plain {
            return plain.to_owned();
        }
        let code = match level {
            "error" | "fatal" => "1;31",
            "warn" | "warning" => "33",
            "debug" | "trace" => "2",
            _ => "32",
        };
        format!("{ts} \x1b[{code}m{lv}\x1b[0m {rest}")
    }

    /// Text as printed: masked, escaped, and masked again (a secret may contain what the
    /// escaper writes).
    fn shown(&self, text: &str) -> String {
        self.masker.mask(&escape_control(&self.masker.mask(text)))
    }

    /// The line as one JSON object, masked once complete.
    pub(crate) fn json(&self) -> Value {
        let mut map = self.attrs.clone();
        map.insert("timestamp".into(), Value::String(self.timestamp.clone()));
        map.insert("level".into(), Value::String(self.level.clone()));
        map.insert("message".into(), Value::String(self.message.clone()));
        if let Some(d) = self.diagnosis {
            map.insert("diagnosis".into(), Value::String(d.id.to_owned()));
            map.insert("hint".into(), Value::String(d.hint.to_owned()));
        }
        let mut line = Value::Object(map);
        self.masker.mask_json(&mut line);
        line
    }
}

#[cfg(test)]
mod tests;

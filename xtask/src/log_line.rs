//! One line of `railway logs --json`, rendered for people (or re-emitted as JSON) with its
//! diagnosis, after masking.

use serde_json::{Map, Value};

use crate::diagnose::{Signature, diagnose};
use crate::mask::Masker;

#[derive(Debug, Clone)]
pub(crate) struct LogLine {
    pub(crate) timestamp: String,
    pub(crate) level: String,
    pub(crate) message: String,
    /// Every other attribute (the backend's JSON log fields arrive flattened here).
    pub(crate) attrs: Map<String, Value>,
    pub(crate) diagnosis: Option<&'static Signature>,
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
        let timestamp = take("timestamp");
        let level = take("level").to_lowercase();
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
        }
    }

    /// De-duplication key across polls.
    pub(crate) fn key(&self) -> (String, String) {
        (self.timestamp.clone(), self.message.clone())
    }

    pub(crate) fn human(&self, colour: bool) -> String {
        let level = if self.level.is_empty() {
            "info"
        } else {
            &self.level
        };
        let painted = if colour {
            let code = match level {
                "error" | "fatal" => "1;31",
                "warn" | "warning" => "33",
                "debug" | "trace" => "2",
                _ => "32",
            };
            format!("\x1b[{code}m{:<5}\x1b[0m", level.to_uppercase())
        } else {
            format!("{:<5}", level.to_uppercase())
        };
        let attrs: Vec<String> = self
            .attrs
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "target" | "span" | "fields"))
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let mut out = format!("{} {painted} {}", self.timestamp, self.message);
        if !attrs.is_empty() {
            out.push_str(&format!("  {}", attrs.join(" ")));
        }
        if let Some(d) = self.diagnosis {
            out.push_str(&format!("\n    ↳ hint: {}", d.hint));
        }
        out
    }

    pub(crate) fn json(&self) -> Value {
        let mut map = self.attrs.clone();
        map.insert("timestamp".into(), Value::String(self.timestamp.clone()));
        map.insert("level".into(), Value::String(self.level.clone()));
        map.insert("message".into(), Value::String(self.message.clone()));
        if let Some(d) = self.diagnosis {
            map.insert("diagnosis".into(), Value::String(d.id.to_owned()));
            map.insert("hint".into(), Value::String(d.hint.to_owned()));
        }
        Value::Object(map)
    }
}

//! Replaces secret values with `****` before anything from the platform is printed: the one
//! masker of every command that shows platform output (`logs`, and `deploy`, which streams
//! them).
//!
//! Known secrets are found by the configuration's own matcher ([`SecretSet`]) in whatever
//! spelling they reach the text: as stored, percent-decoded, percent-encoded (wholly or
//! partly, either hex case, `+` for a space), in any ASCII case; overlapping secrets are
//! hidden whole. A line is masked in every JSON position: string values, numbers (a float
//! that rounds a longer number is compared by its digits) and booleans, keys, any field
//! (`timestamp` included). Callers mask last, after every transformation (see `LogLine`).

use std::collections::BTreeMap;
use std::sync::Arc;

use intowork_config::{MASK, SECRET_PARAMS, SecretSet};
use serde_json::{Map, Number, Value};

mod any_text;

/// The values to hide: the service's secret variables (their names matched in any case),
/// every secret inside URL-valued variables (the user-info password, split at the last `@`
/// as the configuration parser splits it, and libpq's secret parameters); plus, in any text,
/// passwords inside URLs, `password=`-style parameters and `Bearer` tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct Masker {
    /// Shared by every line that keeps a masker for its renderings.
    secrets: Arc<SecretSet>,
}

/// A float's digits compared with the secrets: this many in a row, found in a secret, hide it.
const FLOAT_DIGITS: usize = 8;

impl Masker {
    pub(crate) fn from_variables(vars: &BTreeMap<String, String>) -> Masker {
        let pairs = vars.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        Masker {
            secrets: Arc::new(SecretSet::from_variables(pairs)),
        }
    }

    pub(crate) fn mask(&self, text: &str) -> String {
        any_text::mask(&self.secrets.mask(text))
    }

    /// Every position of a JSON value: strings, numbers and booleans (a secret may be
    /// numeric), object keys and nested values.
    pub(crate) fn mask_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.mask(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            Value::Object(map) => *map = self.mask_object(std::mem::take(map)),
            Value::Number(n) => {
                let text = n.to_string();
                let masked = self.mask(&text);
                if masked != text {
                    *value = Value::String(masked);
                } else if self.float_shows_a_secret(n) {
                    *value = Value::String(MASK.to_owned());
                }
            }
            Value::Bool(_) => {
                let text = value.to_string();
                let masked = self.mask(&text);
                if masked != text {
                    *value = Value::String(masked);
                }
            }
            Value::Null => {}
        }
    }

    /// An object with its keys and values masked; keys that mask alike stay distinct. The
    /// value of a key that is a secret parameter (`"password": …`) is masked whole, as
    /// `password=…` is in text.
    pub(crate) fn mask_object(&self, map: Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, mut value) in map {
            if SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(&key)) && !value.is_null() {
                value = Value::String(MASK.to_owned());
            }
            self.mask_json(&mut value);
            let mut key = self.mask(&key);
            while out.contains_key(&key) {
                key.push('*');
            }
            out.insert(key, value);
        }
        out
    }

    /// A float keeps only 17 significant digits of a longer number: when a run of them
    /// belongs to a secret, the number may be that secret rounded.
    fn float_shows_a_secret(&self, n: &Number) -> bool {
        if !n.is_f64() {
            return false;
        }
        let text = n.to_string();
        let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let digits = digits.trim_start_matches('0');
        // The last digit may be rounded.
        let kept = &digits[..digits.len().saturating_sub(1)];
        kept.len() >= FLOAT_DIGITS && self.secrets.mask_fragments(kept, FLOAT_DIGITS) != kept
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod any_text_tests;

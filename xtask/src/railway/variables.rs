//! A service's variables as Railway gives them: a *sealed* variable is present with no value
//! (`null`: railwayapp 5.71.0 `variable list --json`, src/commands/variable.rs, "null in
//! JSON"; and `variables(unrendered: true)` through `railway api`). Nobody can read a sealed
//! value back, this tool included: every rule that needs one says so instead of guessing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// Name → value, `None` for a sealed variable. Values are secrets: never print them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Variables(BTreeMap<String, Option<String>>);

impl Variables {
    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, Option<&str>)]) -> Variables {
        Variables(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
                .collect(),
        )
    }

    /// From a JSON object: strings are values, `null` is sealed, anything else (a number a
    /// future API might send) is kept as its JSON text.
    pub(crate) fn from_json(value: Value) -> Result<Variables, serde_json::Error> {
        let map: BTreeMap<String, Value> = serde_json::from_value(value)?;
        Ok(Variables(
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, Some(s)),
                    Value::Null => (k, None),
                    other => (k, Some(other.to_string())),
                })
                .collect(),
        ))
    }

    /// Every variable whose value can be read.
    pub(crate) fn readable(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect()
    }

    /// The names of the sealed variables.
    pub(crate) fn sealed(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Set, sealed or not.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The value, when it can be read.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.0.get(name)?.as_deref()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }
}

impl<'de> Deserialize<'de> for Variables {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Variables::from_json(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_variable_is_present_without_a_value() {
        let vars: Variables =
            serde_json::from_str(r#"{"DATABASE_URL": "postgres://x", "STRIPE_KEY": null}"#)
                .unwrap();
        assert!(vars.contains("STRIPE_KEY"));
        assert_eq!(vars.value("STRIPE_KEY"), None);
        assert_eq!(vars.value("DATABASE_URL"), Some("postgres://x"));
        assert_eq!(vars.sealed(), ["STRIPE_KEY"]);
        assert_eq!(vars.readable().len(), 1);
        assert_eq!(vars.len(), 2);
        assert!(!vars.contains("MISSING"));
    }
}

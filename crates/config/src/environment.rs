//! `ENVIRONMENT`: which deployment rules apply.

use std::fmt;
use std::str::FromStr;

use crate::problem::Problem;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }

    pub fn is_production(self) -> bool {
        self == Environment::Production
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = Problem;

    fn from_str(s: &str) -> Result<Environment, Problem> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" => Ok(Environment::Development),
            "staging" => Ok(Environment::Staging),
            "production" => Ok(Environment::Production),
            _ => Err(Problem::error(
                "value",
                format!("`{}` is not a supported environment", s.trim()),
            )
            .hint("use `development`, `staging` or `production`")),
        }
    }
}

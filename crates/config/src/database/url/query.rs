//! The URL's query parameters that this configuration reads, with a warning for each one it
//! ignores and for each one given more than once.

use super::shown::is_secret_param;
use crate::problem::{Problem, Problems};

/// The parameters read; when one is repeated, the last value wins, as in libpq and sqlx.
#[derive(Default)]
pub(super) struct Query {
    pub(super) sslmode: Option<String>,
    pub(super) ssl: Option<String>,
    pub(super) sslrootcert: Option<String>,
    pub(super) host: Option<String>,
    pub(super) port: Option<String>,
    pub(super) user: Option<String>,
    pub(super) password: Option<String>,
    pub(super) dbname: Option<String>,
    pub(super) application_name: Option<String>,
    pub(super) options: Option<String>,
}

impl Query {
    pub(super) fn collect(url: &url::Url, problems: &mut Problems) -> Query {
        let mut q = Query::default();
        // (canonical key, how many times it was given)
        let mut seen: Vec<(&'static str, usize)> = Vec::new();
        for (key, value) in url.query_pairs() {
            let Some((name, slot)) = q.slot(&key) else {
                problems.push(
                    Problem::warning(
                        "parameter",
                        format!("parameter `{key}` is not used and will be ignored"),
                    )
                    .hint("remove it from the URL"),
                );
                continue;
            };
            *slot = Some(value.into_owned());
            match seen.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => seen.push((name, 1)),
            }
        }
        for (name, count) in seen.into_iter().filter(|(_, count)| *count > 1) {
            problems.push(q.repeated(name, count));
        }
        q
    }

    /// The slot a key fills, by its canonical name (`ssl-ca` is `sslrootcert`).
    fn slot(&mut self, key: &str) -> Option<(&'static str, &mut Option<String>)> {
        Some(match key {
            "sslmode" => ("sslmode", &mut self.sslmode),
            "ssl" => ("ssl", &mut self.ssl),
            "sslrootcert" | "ssl-ca" => ("sslrootcert", &mut self.sslrootcert),
            "host" => ("host", &mut self.host),
            "port" => ("port", &mut self.port),
            "user" => ("user", &mut self.user),
            "password" => ("password", &mut self.password),
            "dbname" => ("dbname", &mut self.dbname),
            "application_name" => ("application_name", &mut self.application_name),
            "options" => ("options", &mut self.options),
            _ => return None,
        })
    }

    /// The warning for a parameter given `count` times: it names the value that wins, unless
    /// that value is a secret.
    fn repeated(&mut self, name: &'static str, count: usize) -> Problem {
        let winner = if is_secret_param(name) {
            "the last one is used".to_owned()
        } else {
            let value = self
                .slot(name)
                .and_then(|(_, v)| v.clone())
                .unwrap_or_default();
            format!("the last one, `{value}`, is used")
        };
        Problem::warning(
            "repeated",
            format!("parameter `{name}` is given {count} times; {winner}"),
        )
        .hint(format!("keep one `{name}=` in the URL"))
    }
}

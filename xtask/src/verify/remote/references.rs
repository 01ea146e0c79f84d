//! `${{…}}` references checked where they are written: the service's *unrendered* variables
//! (`variables(…, unrendered: true)`), because a reference to a service that does not exist
//! renders to an empty or missing value, which no check of rendered values can tell from
//! "not set". Names only: no value is ever printed.

use std::collections::BTreeMap;

use intowork_config::{Check, Status};
use xshell::Shell;

use crate::railway::{Ids, Railway, Variables};

/// One `${{…}}` inside a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    /// `${{shared.NAME}}`: the environment's shared variables.
    Shared(String),
    /// `${{Service.NAME}}`.
    Service { service: String, name: String },
    /// `${{NAME}}`: another variable of the same service.
    Own(String),
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Shared(n) => write!(f, "${{{{shared.{n}}}}}"),
            Reference::Service { service, name } => write!(f, "${{{{{service}.{name}}}}}"),
            Reference::Own(n) => write!(f, "${{{{{n}}}}}"),
        }
    }
}

/// Every reference in a value (service names may hold dots and spaces; variable names not).
pub(crate) fn parse(value: &str) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        out.push(match inner.rsplit_once('.') {
            Some(("shared", name)) => Reference::Shared(name.trim().to_owned()),
            Some((service, name)) => Reference::Service {
                service: service.trim().to_owned(),
                name: name.trim().to_owned(),
            },
            None => Reference::Own(inner.to_owned()),
        });
        rest = &after[end + 2..];
    }
    out
}

/// Variables Railway provides to every service without storing them.
fn provided(name: &str) -> bool {
    name.starts_with("RAILWAY_") || name == "PORT"
}

/// Checks each reference of the service's unrendered variables against the project's
/// services and their variables (fetched once per referenced service). A sealed variable
/// counts as present; its own value, unreadable, is not searched for references.
pub(crate) fn check(
    sh: &Shell,
    railway: &Railway,
    ids: &Ids,
    own: &Variables,
) -> anyhow::Result<Vec<Check>> {
    let mut known: BTreeMap<Option<String>, Variables> = BTreeMap::new();
    let mut checks = Vec::new();
    let mut count = 0;
    for (variable, value) in own.iter() {
        for reference in parse(value.unwrap_or_default()) {
            count += 1;
            let problem = match &reference {
                Reference::Own(name) => (!own.contains(name) && !provided(name)).then(|| {
                    format!("references `{reference}`, but this service has no variable `{name}`")
                }),
                Reference::Shared(name) => {
                    let shared = fetch(sh, railway, ids, &mut known, None)?;
                    (!shared.contains(name))
                        .then(|| format!("references `{reference}`, but the environment has no shared variable `{name}`"))
                }
                Reference::Service { service, name } => match ids.services.get(service) {
                    None => Some(format!(
                        "references service `{service}` (`{reference}`), which does not exist in this project (services: {})",
                        ids.services.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                    Some(id) => {
                        let theirs = fetch(sh, railway, ids, &mut known, Some(id))?;
                        (!theirs.contains(name) && !provided(name))
                            .then(|| format!("references `{reference}`, but service `{service}` has no variable `{name}`"))
                    }
                },
            };
            if let Some(message) = problem {
                // The names come from the platform's values: relayed like any CLI text.
                let message = railway.relay().text(&message);
                checks.push(
                    Check::new("platform.reference", Status::Fail, message)
                        .variable(variable)
                        .hint("fix the reference in the service's Variables (a renamed or deleted service renders it empty: the incident's \"DATABASE_URL not set\")"),
                );
            }
        }
    }
    if checks.is_empty() {
        checks.push(Check::new(
            "platform.reference",
            Status::Pass,
            format!("{count} `${{{{…}}}}` reference{} checked where written: every service and variable exists", if count == 1 { "" } else { "s" }),
        ));
    }
    Ok(checks)
}

fn fetch<'a>(
    sh: &Shell,
    railway: &Railway,
    ids: &Ids,
    known: &'a mut BTreeMap<Option<String>, Variables>,
    service_id: Option<&String>,
) -> anyhow::Result<&'a Variables> {
    let key = service_id.cloned();
    if !known.contains_key(&key) {
        let vars = railway.unrendered_variables(sh, ids, service_id.map(String::as_str))?;
        known.insert(key.clone(), vars);
    }
    Ok(&known[&key])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_parsed_by_kind() {
        assert_eq!(
            parse(
                "postgresql://${{Postgres.PGUSER}}:x@${{ My DB.RAILWAY_PRIVATE_DOMAIN }}/${{shared.DB}}?a=${{OTHER}}"
            ),
            [
                Reference::Service {
                    service: "Postgres".into(),
                    name: "PGUSER".into()
                },
                Reference::Service {
                    service: "My DB".into(),
                    name: "RAILWAY_PRIVATE_DOMAIN".into()
                },
                Reference::Shared("DB".into()),
                Reference::Own("OTHER".into()),
            ]
        );
        assert!(parse("no reference, ${ not one }").is_empty());
        assert_eq!(
            Reference::Service {
                service: "Postgres".into(),
                name: "DATABASE_URL".into()
            }
            .to_string(),
            "${{Postgres.DATABASE_URL}}"
        );
    }
}

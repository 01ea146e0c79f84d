//! The other half of "the site works" (`verify --remote --frontend-service`, and `deploy`'s
//! pre-flight when set): the Next.js frontend calls *this* service at an address browsers
//! reach, and a browser on the frontend's domains is allowed to. Read from the platform —
//! both services' variables (rendered, and as written with their `${{…}}` references) and
//! their public domains (generated and custom, through `railway api`) — and checked here:
//!
//! - [`secret`]: both hold one NEXTAUTH_SECRET (by fingerprint, or by reference when sealed);
//! - [`api_url`]: the frontend's API-URL variable is `https://` + one of this service's
//!   public domains; never a `*.railway.internal` name for a browser-side (`NEXT_PUBLIC_*`)
//!   variable;
//! - [`origins`]: `FRONTEND_URL`'s host is one of the frontend's public domains, and
//!   `ALLOWED_ORIGINS` holds the origin of every one of them.
//!
//! Every failure carries the exact `railway variables --set …` that fixes it ([`fix`]); a
//! sealed variable is a warning (its value cannot be read back), never a silent pass.

mod api_url;
#[cfg(test)]
mod echo_tests;
mod fix;
mod origins;
mod secret;
mod written;

use intowork_config::Check;
use xshell::Shell;

use crate::flags::FrontendArgs;
use crate::railway::{Domain, Ids, Railway, Variables};

/// The API-URL variables looked for when `--frontend-api-var` does not name one.
pub(crate) const DEFAULT_API_VARS: [&str; 2] = ["NEXT_PUBLIC_API_URL", "API_URL"];

/// One service as the checks see it.
#[derive(Debug)]
pub(crate) struct Service<'a> {
    /// As the project spells it (references name services this way).
    pub(crate) name: &'a str,
    pub(crate) rendered: &'a Variables,
    /// As written: `${{…}}` references unresolved.
    pub(crate) written: &'a Variables,
    pub(crate) domains: &'a [Domain],
}

/// Both services, and the environment the fixes name.
#[derive(Debug)]
pub(crate) struct Pair<'a> {
    pub(crate) backend: Service<'a>,
    pub(crate) frontend: Service<'a>,
    pub(crate) environment: &'a str,
}

/// What a variable holds, as far as it can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read<'a> {
    Unset,
    /// Set, value unknown (railwayapp 5.71.0 lists it as `null`).
    Sealed,
    Value {
        rendered: &'a str,
        /// The value as written, when it holds a `${{…}}` reference.
        written: Option<&'a str>,
    },
}

impl<'a> Service<'a> {
    pub(crate) fn read(&self, name: &str) -> Read<'a> {
        if !self.rendered.contains(name) {
            return Read::Unset;
        }
        match self.rendered.value(name) {
            None => Read::Sealed,
            Some(rendered) => Read::Value {
                rendered,
                written: self.written.value(name).filter(|w| w.contains("${{")),
            },
        }
    }

    /// The public domain named `host`, if it is one of this service's.
    pub(crate) fn domain(&self, host: &str) -> Option<&'a Domain> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.domains.iter().find(|d| d.name == host)
    }

    /// `a, b` — or `none` — for messages.
    pub(crate) fn domain_list(&self) -> String {
        if self.domains.is_empty() {
            return "none".to_owned();
        }
        self.domains
            .iter()
            .map(|d| {
                let kind = if d.custom { "custom" } else { "generated" };
                format!("{} ({kind})", d.name)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Fetches what the checks need — the frontend's variables as written, both services' public
/// domains — and runs them. `theirs` are the frontend's rendered variables (already read for
/// the NEXTAUTH_SECRET comparison), `ours_written` this service's variables as written.
pub(crate) fn check(
    sh: &Shell,
    railway: &Railway,
    ids: &Ids,
    (ours, ours_written): (&Variables, &Variables),
    theirs: &Variables,
    args: &FrontendArgs,
) -> anyhow::Result<Vec<Check>> {
    let Some(frontend) = args.frontend_service.as_deref() else {
        return Ok(Vec::new());
    };
    let (frontend_name, frontend_id) = service_named(ids, frontend)?;
    let backend_name = ids
        .services
        .iter()
        .find(|(_, id)| **id == ids.service_id)
        .map_or(railway.target.service.as_str(), |(name, _)| name.as_str());
    let theirs_written = railway.unrendered_variables(sh, ids, Some(frontend_id))?;
    let backend_domains = railway.domains(sh, ids, &ids.service_id)?;
    let frontend_domains = railway.domains(sh, ids, frontend_id)?;
    let pair = Pair {
        backend: Service {
            name: backend_name,
            rendered: ours,
            written: ours_written,
            domains: &backend_domains,
        },
        frontend: Service {
            name: frontend_name,
            rendered: theirs,
            written: &theirs_written,
            domains: &frontend_domains,
        },
        environment: &railway.target.environment,
    };
    let names: Vec<&str> = match args.frontend_api_var.as_deref() {
        Some(name) => vec![name],
        None => DEFAULT_API_VARS.to_vec(),
    };
    let mut checks = vec![secret::same_secret(&pair)];
    checks.extend(api_url::check(&pair, &names));
    checks.push(origins::frontend_url(&pair));
    checks.push(origins::allowed_origins(&pair));
    // Platform text (domains, values) reaches people through the relay only.
    for c in &mut checks {
        c.message = railway.relay().text(&c.message);
        c.hint = c.hint.as_deref().map(|h| railway.relay().text(h));
    }
    Ok(checks)
}

/// The project's spelling and id of the service named `name` (ignoring case, as the CLI).
fn service_named<'a>(ids: &'a Ids, name: &str) -> anyhow::Result<(&'a str, &'a str)> {
    ids.services
        .iter()
        .find(|(n, id)| n.eq_ignore_ascii_case(name) || *id == name)
        .map(|(n, id)| (n.as_str(), id.as_str()))
        .ok_or_else(|| {
            crate::util::exit::Reported(format!(
                "--frontend-service `{name}`: no such service in this project (services: {})",
                ids.services.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
            .into()
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Owned parts of a [`Pair`], for the tests of each check.
    pub(crate) struct Fixture {
        pub(crate) backend: (Variables, Variables, Vec<Domain>),
        pub(crate) frontend: (Variables, Variables, Vec<Domain>),
    }

    pub(crate) fn generated(name: &str) -> Domain {
        Domain {
            name: name.into(),
            custom: false,
            pending: None,
        }
    }

    pub(crate) fn custom(name: &str) -> Domain {
        Domain {
            name: name.into(),
            custom: true,
            pending: None,
        }
    }

    /// Variables as rendered, and as written for those given a written form.
    pub(crate) fn vars(
        pairs: &[(&str, Option<&str>)],
        written: &[(&str, &str)],
    ) -> (Variables, Variables) {
        let rendered = Variables::from_pairs(pairs);
        let mut as_written: Vec<(&str, Option<&str>)> = pairs.to_vec();
        for (name, value) in written {
            as_written.retain(|(n, _)| n != name);
            as_written.push((name, Some(value)));
        }
        (rendered, Variables::from_pairs(&as_written))
    }

    impl Fixture {
        pub(crate) fn pair(&self) -> Pair<'_> {
            Pair {
                backend: Service {
                    name: "backend",
                    rendered: &self.backend.0,
                    written: &self.backend.1,
                    domains: &self.backend.2,
                },
                frontend: Service {
                    name: "frontend",
                    rendered: &self.frontend.0,
                    written: &self.frontend.1,
                    domains: &self.frontend.2,
                },
                environment: "production",
            }
        }
    }
}

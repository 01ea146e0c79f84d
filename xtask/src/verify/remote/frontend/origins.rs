//! The backend's side of the pair: `FRONTEND_URL` (the links in emails) must name a host the
//! frontend serves, and `ALLOWED_ORIGINS` must hold the origin of *every* public domain of the
//! frontend — a custom domain missing from it is the failure users report most: every browser
//! call from there fails its CORS preflight while `curl` works.

use intowork_config::{Check, Status};

use super::fix::Side;
use super::written::{HostRef, address, origin, said};
use super::{Pair, Read};

/// `FRONTEND_URL`'s host is one of the frontend's public domains.
pub(crate) fn frontend_url(pair: &Pair<'_>) -> Check {
    const NAME: &str = "FRONTEND_URL";
    let (back, front) = (pair.backend.name, pair.frontend.name);
    let check = |status, message: String| {
        Check::new("platform.frontend_url", status, message).variable(NAME)
    };
    let (rendered, written) = match pair.backend.read(NAME) {
        Read::Unset => {
            return check(
                Status::Skip,
                format!("not set on `{back}` (the configuration checks say whether it must be)"),
            );
        }
        Read::Sealed => {
            return check(Status::Warn, format!("sealed on `{back}`: whether the links in emails lead to `{front}` cannot be checked from here (not a pass)"))
                .hint(format!("make sure it names one of `{front}`'s public domains ({})", pair.frontend.domain_list()));
        }
        Read::Value { rendered, written } => (rendered, written),
    };
    let said = said(rendered, written);
    let at = match address(rendered) {
        Ok(at) => at,
        Err(why) => return check(Status::Fail, why).hint(frontend_url_fix(pair, "")),
    };
    if at.credentials {
        // As the configuration's own check says (FRONTEND_URL's `credentials`): never a pass.
        return check(Status::Fail, format!("{said} carries credentials (a user-info, or a secret-named query parameter): links in emails would hand them to every recipient"))
            .hint(frontend_url_fix(pair, &at.rest));
    }
    if pair.frontend.domains.is_empty() {
        return check(
            Status::Fail,
            format!("{said}: `{front}` has no public domain, so no link can lead to it"),
        )
        .hint(format!(
            "`{}`, then {}",
            pair.generate_domain(Side::Frontend),
            frontend_url_fix(pair, &at.rest)
        ));
    }
    let referenced = written
        .and_then(|w| HostRef::of(w, back))
        .and_then(|(r, text)| match r {
            HostRef::Public(s) if HostRef::names(&s, front) => Some(text),
            _ => None,
        });
    match (pair.frontend.domain(&at.host), referenced) {
        (Some(d), _) if d.pending.is_some() => check(
            Status::Warn,
            format!("{said}: `{}` is `{front}`'s custom domain, but {}: links lead nowhere until then", at.host, d.pending.as_deref().unwrap_or_default()),
        ),
        (Some(_), Some(text)) => check(Status::Pass, format!("{said}: references `{text}`, a public domain of `{front}`")),
        (Some(_), None) => check(Status::Pass, format!("{said}: `{}` is a public domain of `{front}`", at.host)),
        (None, _) => check(
            Status::Fail,
            format!("{said}: `{}` is not a public domain of `{front}` (its domains: {}): the links in emails lead elsewhere than where users sign in", at.host, pair.frontend.domain_list()),
        )
        .hint(frontend_url_fix(pair, &at.rest)),
    }
}

/// A comma-separated list of origins, each entry as a URL may be shown.
fn shown_list(list: &str) -> String {
    list.split(',')
        .map(|e| intowork_config::shown_url(e.trim()).into_owned())
        .collect::<Vec<_>>()
        .join(",")
}

/// The domain users visit: a custom one that serves, else the frontend's generated one
/// through a reference.
fn frontend_url_fix(pair: &Pair<'_>, rest: &str) -> String {
    let host = pair
        .frontend
        .domains
        .iter()
        .find(|d| d.custom && d.pending.is_none())
        .map_or_else(
            || {
                format!(
                    "https://${{{{{}.RAILWAY_PUBLIC_DOMAIN}}}}",
                    pair.frontend.name
                )
            },
            |d| d.origin(),
        );
    format!(
        "`{}`",
        pair.set(Side::Backend, "FRONTEND_URL", &format!("{host}{rest}"))
    )
}

/// `ALLOWED_ORIGINS` holds `https://D` for every public domain D of the frontend. Decided on
/// the rendered list (what the service runs with); the fix keeps the list as written, its
/// references included, and adds what is missing.
pub(crate) fn allowed_origins(pair: &Pair<'_>) -> Check {
    const NAME: &str = "ALLOWED_ORIGINS";
    let (back, front) = (pair.backend.name, pair.frontend.name);
    let check = |status, message: String| {
        Check::new("platform.frontend_origins", status, message).variable(NAME)
    };
    let wanted: Vec<String> = pair.frontend.domains.iter().map(|d| d.origin()).collect();
    if wanted.is_empty() {
        return check(
            Status::Skip,
            format!("`{front}` has no public domain: no origin to allow"),
        );
    }
    let (rendered, written) = match pair.backend.read(NAME) {
        Read::Unset => ("", None),
        Read::Sealed => {
            return check(Status::Warn, format!("sealed on `{back}`: whether it allows {} cannot be checked from here (not a pass)", wanted.join(", ")))
                .hint(format!("make sure it lists {}", wanted.join(",")));
        }
        Read::Value { rendered, written } => (rendered, written),
    };
    let entries: Vec<&str> = rendered
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let any = entries.contains(&"*");
    let allowed: Vec<String> = entries.iter().filter_map(|e| origin(e)).collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|o| !any && !allowed.contains(o))
        .collect();
    let said = match written {
        Some(w) => format!("`{}` (renders `{}`)", shown_list(w), shown_list(rendered)),
        None if rendered.is_empty() => "not set".to_owned(),
        None => format!("`{}`", shown_list(rendered)),
    };
    if missing.is_empty() {
        return check(
            Status::Pass,
            format!(
                "{said}: allows the origin of every public domain of `{front}` ({})",
                wanted.join(", ")
            ),
        );
    }
    let described: Vec<String> = missing
        .iter()
        .map(|o| {
            let custom = pair
                .frontend
                .domains
                .iter()
                .any(|d| d.custom && &d.origin() == *o);
            format!(
                "{o} ({} domain of `{front}`)",
                if custom { "custom" } else { "generated" }
            )
        })
        .collect();
    let mut fixed: Vec<String> = written
        .unwrap_or(rendered)
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    fixed.extend(missing.iter().map(|o| (*o).clone()));
    check(
        Status::Fail,
        format!("{said} lacks {}: every browser call from there fails its CORS preflight (while `curl` works)", described.join(", ")),
    )
    .hint(format!("`{}` (setting it redeploys `{back}`, which reads it at start)", pair.set(Side::Backend, NAME, &fixed.join(","))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::railway::Domain;
    use crate::verify::remote::frontend::tests::{Fixture, custom, generated, vars};

    fn fixture(
        backend: &[(&str, Option<&str>)],
        written: &[(&str, &str)],
        domains: Vec<Domain>,
    ) -> Fixture {
        let (r, w) = vars(backend, written);
        Fixture {
            backend: (r, w, vec![generated("backend-production.up.railway.app")]),
            frontend: (Default::default(), Default::default(), domains),
        }
    }

    fn both() -> Vec<Domain> {
        vec![
            generated("web-production.up.railway.app"),
            custom("app.intowork.example"),
        ]
    }

    #[test]
    fn frontend_url_names_a_domain_of_the_frontend() {
        let f = fixture(
            &[("FRONTEND_URL", Some("https://app.intowork.example/"))],
            &[],
            both(),
        );
        assert_eq!(frontend_url(&f.pair()).status, Status::Pass);
        let f = fixture(
            &[(
                "FRONTEND_URL",
                Some("https://web-production.up.railway.app"),
            )],
            &[(
                "FRONTEND_URL",
                "https://${{frontend.RAILWAY_PUBLIC_DOMAIN}}",
            )],
            both(),
        );
        let c = frontend_url(&f.pair());
        assert_eq!(c.status, Status::Pass);
        assert!(
            c.message
                .contains("references `${{frontend.RAILWAY_PUBLIC_DOMAIN}}`"),
            "{}",
            c.message
        );
        let f = fixture(
            &[("FRONTEND_URL", Some("https://old.intowork.example/welcome"))],
            &[],
            both(),
        );
        let c = frontend_url(&f.pair());
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.message.contains("is not a public domain of `frontend`"),
            "{}",
            c.message
        );
        assert_eq!(
            c.hint.as_deref(),
            Some(
                "`railway variables --service backend --environment production --set 'FRONTEND_URL=https://app.intowork.example/welcome'`"
            )
        );
        let f = fixture(&[("FRONTEND_URL", None)], &[], both());
        assert_eq!(frontend_url(&f.pair()).status, Status::Warn);
    }

    #[test]
    fn every_frontend_domain_must_be_an_allowed_origin() {
        let f = fixture(
            &[(
                "ALLOWED_ORIGINS",
                Some("https://app.intowork.example, https://web-production.up.railway.app"),
            )],
            &[],
            both(),
        );
        assert_eq!(allowed_origins(&f.pair()).status, Status::Pass);
        // The reference covers the generated domain; the custom one is missing.
        let f = fixture(
            &[(
                "ALLOWED_ORIGINS",
                Some("https://web-production.up.railway.app"),
            )],
            &[(
                "ALLOWED_ORIGINS",
                "https://${{frontend.RAILWAY_PUBLIC_DOMAIN}}",
            )],
            both(),
        );
        let c = allowed_origins(&f.pair());
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.message
                .contains("lacks https://app.intowork.example (custom domain of `frontend`)"),
            "{}",
            c.message
        );
        assert!(
            c.hint.as_deref().unwrap().contains("--set 'ALLOWED_ORIGINS=https://${{frontend.RAILWAY_PUBLIC_DOMAIN}},https://app.intowork.example'"),
            "{:?}",
            c.hint
        );
        let f = fixture(&[("ALLOWED_ORIGINS", None)], &[], both());
        assert_eq!(
            allowed_origins(&f.pair()).status,
            Status::Warn,
            "never a silent pass"
        );
        let f = fixture(&[], &[], both());
        let c = allowed_origins(&f.pair());
        assert_eq!(c.status, Status::Fail);
        assert!(c.hint.unwrap().contains(
            "'ALLOWED_ORIGINS=https://web-production.up.railway.app,https://app.intowork.example'"
        ));
        let f = fixture(&[], &[], vec![]);
        assert_eq!(allowed_origins(&f.pair()).status, Status::Skip);
    }
}

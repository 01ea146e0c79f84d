//! The frontend's API-URL variable: where the Next.js app sends its API calls. A browser-side
//! variable (`NEXT_PUBLIC_*`, inlined into the page at build time) must be `https://` + one
//! of this service's public domains; a server-side one may also use this service's private
//! name (`http://${{backend.RAILWAY_PRIVATE_DOMAIN}}:PORT`: server to server, inside Railway).

use intowork_config::{Check, Status};

use super::fix::Side;
use super::written::{Address, HostRef, address, is_private, said};
use super::{Pair, Read};

const ID: &str = "platform.frontend_api_url";

/// One check per API-URL variable the frontend sets; one failure when it sets none of `names`.
pub(crate) fn check(pair: &Pair<'_>, names: &[&str]) -> Vec<Check> {
    let set: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| pair.frontend.read(n) != Read::Unset)
        .collect();
    if set.is_empty() {
        let name = names.first().copied().unwrap_or("NEXT_PUBLIC_API_URL");
        return vec![
            Check::new(
                ID,
                Status::Fail,
                format!(
                    "`{}` sets none of {}: the frontend does not know where this API is",
                    pair.frontend.name,
                    names.join(", ")
                ),
            )
            .variable(name)
            .hint(fix(pair, name, "")),
        ];
    }
    set.into_iter().map(|name| one(pair, name)).collect()
}

fn one(pair: &Pair<'_>, name: &str) -> Check {
    let front = pair.frontend.name;
    let check = |status, message: String| Check::new(ID, status, message).variable(name);
    let (rendered, written) = match pair.frontend.read(name) {
        Read::Unset => unreachable!("only variables that are set are checked"),
        Read::Sealed => {
            return check(
                Status::Warn,
                format!("sealed on `{front}`: which address the frontend calls cannot be read back, so whether it reaches `{}` cannot be checked from here (not a pass)", pair.backend.name),
            )
            .hint(format!("make sure it holds `https://` + one of `{}`'s public domains ({}); a sealed value cannot be checked, so prefer an unsealed reference: {}", pair.backend.name, pair.backend.domain_list(), fix(pair, name, "")));
        }
        Read::Value { rendered, written } => (rendered, written),
    };
    let said = said(rendered, written);
    if rendered.contains("${{") {
        return check(
            Status::Fail,
            format!("{said}: its `${{{{…}}}}` reference does not resolve (a renamed or deleted service or variable), so the frontend calls nowhere"),
        )
        .hint(fix(pair, name, ""));
    }
    let at = match address(rendered) {
        Ok(at) => at,
        Err(why) => return check(Status::Fail, why).hint(fix(pair, name, "")),
    };
    if at.credentials {
        return check(Status::Fail, format!("{said} carries credentials (a user-info, or a secret-named query parameter): the frontend would send them with every call (a `NEXT_PUBLIC_*` one to every visitor's browser)"))
            .hint(fix(pair, name, &at.rest));
    }
    let host_ref = written.and_then(|w| HostRef::of(w, front));
    let verdict = judge(pair, name, &at, host_ref.as_ref().map(|(r, _)| r));
    let status = verdict.status();
    let message = match (&verdict, &host_ref) {
        (Reach::Reaches(how), Some((_, text))) => {
            format!("{said}: references `{text}`, {how}, followed by Railway wherever it moves")
        }
        (Reach::Reaches(how), None) => format!("{said}: {how}"),
        (Reach::Pending(why) | Reach::Wrong(why), _) => format!("{said}: {why}"),
    };
    let c = check(status, message);
    if status == Status::Pass {
        c
    } else {
        c.hint(fix(pair, name, &at.rest))
    }
}

/// What the address means for a browser (or, server-side, for Next.js's server).
enum Reach {
    Reaches(String),
    /// A custom domain browsers cannot reach yet.
    Pending(String),
    Wrong(String),
}

impl Reach {
    fn status(&self) -> Status {
        match self {
            Reach::Reaches(_) => Status::Pass,
            Reach::Pending(_) => Status::Warn,
            Reach::Wrong(_) => Status::Fail,
        }
    }
}

fn judge(pair: &Pair<'_>, name: &str, at: &Address, host_ref: Option<&HostRef>) -> Reach {
    let back = pair.backend.name;
    let browser = name.starts_with("NEXT_PUBLIC_");
    if is_private(&at.host) {
        if browser {
            return Reach::Wrong(format!(
                "`{}` is a private name: `*.railway.internal` resolves only inside Railway, and a `NEXT_PUBLIC_*` variable is used by the browser, which cannot resolve it — every call fails",
                at.host
            ));
        }
        let ours = pair.backend.rendered.value("RAILWAY_PRIVATE_DOMAIN");
        return match ours {
            Some(ours) if !ours.eq_ignore_ascii_case(&at.host) => Reach::Wrong(format!(
                "`{}` is not `{back}`'s private name (`{ours}`)",
                at.host
            )),
            _ if at.scheme != "http" => Reach::Wrong(format!(
                "the private network speaks plain HTTP: `https://{}` fails its TLS handshake",
                at.host
            )),
            _ => Reach::Reaches(format!(
                "`{back}`'s private name: server-side only (this variable is not `NEXT_PUBLIC_*`), over Railway's private network"
            )),
        };
    }
    let other = match host_ref {
        Some(HostRef::Public(s)) if !HostRef::names(s, back) => {
            format!(" — it references service `{s}`'s domain, not `{back}`'s")
        }
        _ => String::new(),
    };
    let Some(domain) = pair.backend.domain(&at.host) else {
        if pair.backend.domains.is_empty() {
            return Reach::Wrong(format!(
                "`{back}` has no public domain at all: browsers cannot reach it (generate one: `{}`)",
                pair.generate_domain(Side::Backend)
            ));
        }
        let stale = if at.host.ends_with(".up.railway.app") && other.is_empty() {
            " — an old generated domain? A removed or renamed one answers nothing"
        } else {
            ""
        };
        return Reach::Wrong(format!(
            "`{}` is not a public domain of `{back}` (its domains: {}){other}{stale}",
            at.host,
            pair.backend.domain_list()
        ));
    };
    if at.scheme != "https" {
        return Reach::Wrong(
            "plain `http://`: a page served over https may not call it (mixed content), and Railway's domains serve https".to_owned(),
        );
    }
    match &domain.pending {
        Some(why) => Reach::Pending(format!(
            "`{}` is `{back}`'s custom domain, but {why}: browsers cannot reach it until then",
            at.host
        )),
        None => Reach::Reaches(format!("`{}` is a public domain of `{back}`", at.host)),
    }
}

/// The value that fixes it: a reference to this service's public domain (kept in step by
/// Railway), with the path the current value has; or, without a public domain, the command
/// that generates one first.
fn fix(pair: &Pair<'_>, name: &str, rest: &str) -> String {
    let back = pair.backend.name;
    let reference = format!("https://${{{{{back}.RAILWAY_PUBLIC_DOMAIN}}}}{rest}");
    let set = pair.set(Side::Frontend, name, &reference);
    let rebuild = if name.starts_with("NEXT_PUBLIC_") {
        format!(
            " (setting it redeploys `{}`, as it must: Next.js inlines `NEXT_PUBLIC_*` into the page at build time)",
            pair.frontend.name
        )
    } else {
        String::new()
    };
    let custom = pair
        .backend
        .domains
        .iter()
        .find(|d| d.custom && d.pending.is_none())
        .map(|d| {
            format!(
                "; or name the custom domain: `{}`",
                pair.set(Side::Frontend, name, &format!("{}{rest}", d.origin()))
            )
        })
        .unwrap_or_default();
    if pair.backend.domains.is_empty() {
        format!(
            "`{}`, then `{set}`{rebuild}",
            pair.generate_domain(Side::Backend)
        )
    } else {
        format!("`{set}`{rebuild}{custom}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::remote::frontend::tests::{Fixture, custom, generated, vars};

    fn fixture(frontend: &[(&str, Option<&str>)], written: &[(&str, &str)]) -> Fixture {
        Fixture {
            backend: {
                let (r, w) = vars(
                    &[("RAILWAY_PRIVATE_DOMAIN", Some("backend.railway.internal"))],
                    &[],
                );
                (
                    r,
                    w,
                    vec![
                        generated("backend-production.up.railway.app"),
                        custom("api.intowork.example"),
                    ],
                )
            },
            frontend: {
                let (r, w) = vars(frontend, written);
                (r, w, vec![generated("web.up.railway.app")])
            },
        }
    }

    fn one_check(frontend: &[(&str, Option<&str>)], written: &[(&str, &str)]) -> Check {
        let f = fixture(frontend, written);
        let mut checks = check(&f.pair(), &super::super::DEFAULT_API_VARS);
        assert_eq!(checks.len(), 1, "{checks:#?}");
        checks.remove(0)
    }

    #[test]
    fn a_public_domain_of_this_service_passes_literal_or_referenced() {
        let c = one_check(
            &[("NEXT_PUBLIC_API_URL", Some("https://api.intowork.example"))],
            &[],
        );
        assert_eq!(c.status, Status::Pass, "{c:?}");
        let c = one_check(
            &[(
                "NEXT_PUBLIC_API_URL",
                Some("https://backend-production.up.railway.app/api"),
            )],
            &[(
                "NEXT_PUBLIC_API_URL",
                "https://${{backend.RAILWAY_PUBLIC_DOMAIN}}/api",
            )],
        );
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(
            c.message
                .contains("references `${{backend.RAILWAY_PUBLIC_DOMAIN}}`"),
            "{}",
            c.message
        );
        // Server-side, this service's private name is right too.
        let c = one_check(
            &[("API_URL", Some("http://backend.railway.internal:8080"))],
            &[("API_URL", "http://${{backend.RAILWAY_PRIVATE_DOMAIN}}:8080")],
        );
        assert_eq!(c.status, Status::Pass, "{c:?}");
    }

    #[test]
    fn each_failure_is_named_with_its_fix() {
        type Case<'a> = (
            &'a [(&'a str, Option<&'a str>)],
            &'a [(&'a str, &'a str)],
            &'a str,
        );
        let cases: [Case<'_>; 6] = [
            (
                &[(
                    "NEXT_PUBLIC_API_URL",
                    Some("https://old-backend.up.railway.app"),
                )],
                &[],
                "an old generated domain",
            ),
            (
                &[(
                    "NEXT_PUBLIC_API_URL",
                    Some("http://backend.railway.internal:8080"),
                )],
                &[],
                "private name",
            ),
            (
                &[("NEXT_PUBLIC_API_URL", Some("http://api.intowork.example"))],
                &[],
                "mixed content",
            ),
            (
                &[("NEXT_PUBLIC_API_URL", Some("https://web.up.railway.app"))],
                &[(
                    "NEXT_PUBLIC_API_URL",
                    "https://${{frontend.RAILWAY_PUBLIC_DOMAIN}}",
                )],
                "references service `frontend`'s domain",
            ),
            (
                &[("NEXT_PUBLIC_API_URL", Some("api.intowork.example"))],
                &[],
                "not an absolute URL",
            ),
            (
                &[("API_URL", Some("http://other.railway.internal"))],
                &[],
                "not `backend`'s private name",
            ),
        ];
        for (front, written, said) in cases {
            let c = one_check(front, written);
            assert_eq!(c.status, Status::Fail, "{c:?}");
            assert!(c.message.contains(said), "{said}: {}", c.message);
            let hint = c.hint.unwrap();
            assert!(
                hint.contains(
                    "railway variables --service frontend --environment production --set '"
                ) && hint.contains("=https://${{backend.RAILWAY_PUBLIC_DOMAIN}}"),
                "{hint}"
            );
        }
        let none = one_check(&[("OTHER", Some("x"))], &[]);
        assert!(
            none.message
                .contains("sets none of NEXT_PUBLIC_API_URL, API_URL"),
            "{}",
            none.message
        );
        let sealed = one_check(&[("NEXT_PUBLIC_API_URL", None)], &[]);
        assert_eq!(sealed.status, Status::Warn, "never a silent pass");
    }

    #[test]
    fn a_path_is_kept_and_a_missing_domain_is_generated_first() {
        let mut f = fixture(
            &[("NEXT_PUBLIC_API_URL", Some("https://gone.example/v1"))],
            &[],
        );
        let c = check(&f.pair(), &["NEXT_PUBLIC_API_URL"]).remove(0);
        assert!(c.hint.unwrap().contains("RAILWAY_PUBLIC_DOMAIN}}/v1'"));
        f.backend.2.clear();
        let c = check(&f.pair(), &["NEXT_PUBLIC_API_URL"]).remove(0);
        assert!(
            c.message.contains("has no public domain at all"),
            "{}",
            c.message
        );
        assert!(
            c.hint
                .unwrap()
                .starts_with("`railway domain --service backend")
        );
    }
}

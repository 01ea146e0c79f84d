//! `NEXTAUTH_SECRET`: the frontend signs sessions with it, the backend decrypts them with it;
//! the two must be one value. Compared by fingerprint when both can be read; when one is
//! sealed, they are still known to be one value if they are so *by reference* — the same
//! `${{shared.NAME}}` (or `${{Service.NAME}}`) written on both, or one referencing the other's
//! — which is what the warning below advises. Otherwise a sealed value is a warning naming
//! both services, never a pass.

use intowork_config::{Check, Status};

use super::Pair;
use crate::verify::remote::references::{self, Reference};

const NAME: &str = "NEXTAUTH_SECRET";

pub(crate) fn same_secret(pair: &Pair<'_>) -> Check {
    let (service, frontend) = (pair.backend.name, pair.frontend.name);
    let (ours, theirs) = (pair.backend.rendered, pair.frontend.rendered);
    let fp = |v: &str| intowork_config::secret_fingerprint(v);
    let check = |status, msg: String| {
        Check::new("platform.nextauth_secret_match", status, msg).variable(NAME)
    };
    if !theirs.contains(NAME) {
        return check(Status::Fail, format!("not set on `{frontend}`"))
            .hint("set NEXTAUTH_SECRET on the frontend service, identical to the backend's");
    }
    if !ours.contains(NAME) {
        return check(Status::Fail, format!("not set on `{service}`"))
            .hint("set NEXTAUTH_SECRET on the backend service, identical to the frontend's");
    }
    match (ours.value(NAME), theirs.value(NAME)) {
        (Some(a), Some(b)) if a == b => check(Status::Pass, format!("identical on `{service}` and `{frontend}` (sha256 {}…)", fp(a))),
        (Some(a), Some(b)) => check(
            Status::Fail,
            format!("differs between `{service}` (sha256 {}…) and `{frontend}` (sha256 {}…): sessions signed by one are rejected by the other", fp(a), fp(b)),
        )
        .hint("set the same value on both services; a shared variable referenced by both (`${{shared.NEXTAUTH_SECRET}}`) keeps them in step"),
        (a, b) => {
            if let Some(how) = by_reference(pair) {
                return check(Status::Pass, format!("same by reference: {how}, so `{service}` and `{frontend}` sign and decrypt sessions with one value (sealed: the value itself is never read)"));
            }
            let sealed: Vec<&str> = [(a, service), (b, frontend)]
                .into_iter()
                .filter(|(v, _)| v.is_none())
                .map(|(_, s)| s)
                .collect();
            check(
                Status::Warn,
                format!(
                    "sealed on `{}`: its value cannot be read back, so whether `{service}` and `{frontend}` sign sessions with the same secret cannot be checked from here (not a pass)",
                    sealed.join("` and `")
                ),
            )
            .hint(format!("make both services hold the same reference (a shared variable referenced by both, `${{{{shared.NEXTAUTH_SECRET}}}}`, keeps them in step, and this check then passes by reference); after a deploy, `cargo xtask logs` shows the backend's \"does not decrypt with this service's NEXTAUTH_SECRET\" line if `{frontend}` signs with another"))
        }
    }
}

/// How the two variables are one value by construction, as written: the same text whose
/// every reference names a shared variable or a service (`${{NAME}}` alone names each
/// service's own variable: the same text, two values), or one that is exactly a reference
/// to the other's `NEXTAUTH_SECRET`.
fn by_reference(pair: &Pair<'_>) -> Option<String> {
    let ours = pair.backend.written.value(NAME).map(str::trim);
    let theirs = pair.frontend.written.value(NAME).map(str::trim);
    if let (Some(a), Some(b)) = (ours, theirs) {
        let refs = references::parse(a);
        let absolute = refs.iter().all(|r| !matches!(r, Reference::Own(_)));
        if a == b && !refs.is_empty() && absolute {
            return Some(format!("both hold `{a}`"));
        }
    }
    for (side, written, other) in [
        (pair.frontend.name, theirs, pair.backend.name),
        (pair.backend.name, ours, pair.frontend.name),
    ] {
        let Some(written) = written else { continue };
        if let [Reference::Service { service, name }] = references::parse(written).as_slice()
            && name == NAME
            && service.eq_ignore_ascii_case(other)
            && written == format!("${{{{{service}.{name}}}}}")
        {
            return Some(format!("`{side}` holds `{written}`"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::remote::frontend::tests::{Fixture, vars};

    fn fixture(
        backend: (Option<&str>, Option<&str>),
        frontend: (Option<&str>, Option<&str>),
    ) -> Fixture {
        let side = |(rendered, written): (Option<&str>, Option<&str>)| {
            let (r, w) = vars(&[(NAME, rendered)], &[]);
            let w = match written {
                Some(text) => crate::railway::Variables::from_pairs(&[(NAME, Some(text))]),
                None => w,
            };
            (r, w, Vec::new())
        };
        Fixture {
            backend: side(backend),
            frontend: side(frontend),
        }
    }

    const SHARED: &str = "${{shared.NEXTAUTH_SECRET}}";

    #[test]
    fn a_sealed_secret_passes_only_when_both_are_one_value_by_reference() {
        let sealed_shared = fixture((None, Some(SHARED)), (None, Some(SHARED)));
        let c = same_secret(&sealed_shared.pair());
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(
            c.message
                .starts_with("same by reference: both hold `${{shared.NEXTAUTH_SECRET}}`"),
            "{}",
            c.message
        );
        let pointing = fixture((None, None), (None, Some("${{backend.NEXTAUTH_SECRET}}")));
        let c = same_secret(&pointing.pair());
        assert_eq!(c.status, Status::Pass, "{c:?}");
        assert!(
            c.message
                .contains("`frontend` holds `${{backend.NEXTAUTH_SECRET}}`"),
            "{}",
            c.message
        );
        for (backend, frontend) in [
            // Each service's own variable: the same text, two values.
            (
                (None, Some("${{SECRET_V2}}")),
                (None, Some("${{SECRET_V2}}")),
            ),
            // Two different shared variables.
            (
                (None, Some(SHARED)),
                (None, Some("${{shared.OTHER_SECRET}}")),
            ),
            // A reference to another variable of the backend.
            ((None, None), (None, Some("${{backend.OTHER_SECRET}}"))),
            // Sealed with no reference at all.
            (
                (None, None),
                (Some("readable-frontend-secret-0123456789abcdef"), None),
            ),
        ] {
            let f = fixture(backend, frontend);
            let c = same_secret(&f.pair());
            assert_eq!(c.status, Status::Warn, "{backend:?} {frontend:?}: {c:?}");
            assert!(c.message.contains("(not a pass)"), "{}", c.message);
        }
    }
}

//! What a local Next.js checkout of the IntoWork frontend needs to talk to this stack: the
//! API's address (browser- and server-side variables), the same NEXTAUTH_SECRET (sessions it
//! signs must decrypt here), and the address to run it on — an origin the backend allows.
//! Printed by `cargo xtask dev` once the backend is ready. The secret is printed only when it
//! is the stack's own generated development one (from target/dev/dev.env, in the shape the
//! stack writes); one from anywhere else — the process environment wins over the file, and
//! may hold a real secret — is a placeholder that says where it came from.

use std::path::Path;

use intowork_config::secrecy::ExposeSecret;
use intowork_config::{AllowedOrigins, Escaped, Settings, ValueOrigin, escape_path};

use super::stack::is_generated_secret;

/// The NEXTAUTH_SECRET line's value: the generated one, or where the real one is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Secret {
    Generated(String),
    Elsewhere(String),
}

impl Secret {
    /// `origin`: where the backend's NEXTAUTH_SECRET came from; `env_file`: the stack's file.
    pub(crate) fn of(settings: &Settings, origin: Option<&ValueOrigin>, env_file: &Path) -> Secret {
        let value = settings.nextauth_secret().expose_secret();
        match origin {
            Some(ValueOrigin::File(path)) if path == env_file && is_generated_secret(value) => {
                Secret::Generated(value.to_owned())
            }
            Some(ValueOrigin::File(path)) if path == env_file => {
                Secret::Elsewhere(format!("file {}, edited", escape_path(path)))
            }
            Some(origin) => Secret::Elsewhere(Escaped(&origin.to_string()).to_string()),
            None => Secret::Elsewhere("an unknown origin".to_owned()),
        }
    }
}

/// Next.js's development server, where the frontend runs when nothing says otherwise.
const NEXT_DEV: &str = "http://localhost:3000";

/// The lines for the frontend's `.env.local`, and where to run it.
pub(crate) fn settings(settings: &Settings, api: &str, secret: &Secret) -> String {
    let origin = match (settings.frontend_url(), settings.allowed_origins()) {
        (Some(url), _) => url.origin().ascii_serialization(),
        (None, AllowedOrigins::List(list)) if !list.is_empty() => list[0].to_string(),
        _ => NEXT_DEV.to_owned(),
    };
    let allowed = match settings.allowed_origins() {
        AllowedOrigins::Any => "any origin (ALLOWED_ORIGINS=*)".to_owned(),
        list => format!("{list} (ALLOWED_ORIGINS)"),
    };
    let (value, note) = match secret {
        Secret::Generated(value) => (value.clone(), String::new()),
        Secret::Elsewhere(origin) => (
            "<the backend's NEXTAUTH_SECRET>".to_owned(),
            format!(
                "\n(NEXTAUTH_SECRET comes from {origin}, not the stack's generated one: not printed; give the frontend the same value)"
            ),
        ),
    };
    format!(
        "frontend: point a local Next.js checkout at this backend with, in its .env.local:\n\
         \x20 NEXT_PUBLIC_API_URL={api}\n\
         \x20 API_URL={api}\n\
         \x20 NEXTAUTH_SECRET={value}\n\
         \x20 NEXTAUTH_URL={origin}\n\
         and run it on {origin}: this backend allows calls from {allowed}{note}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use intowork_config::Source;

    const GENERATED: &str = "dev-0123456789abcdefghij0123456789ABCDEFGHIJ";

    fn load(secret: &str, extra: &[(&str, &str)]) -> Settings {
        let mut pairs = vec![
            (
                "DATABASE_URL",
                "postgresql://u:p@localhost:5432/intowork?sslmode=require",
            ),
            ("NEXTAUTH_SECRET", secret),
        ];
        pairs.extend_from_slice(extra);
        Settings::load(&Source::from_pairs(pairs, ValueOrigin::Environment))
            .unwrap_or_else(|e| panic!("{e}"))
            .settings
    }

    fn stack_file() -> ValueOrigin {
        ValueOrigin::File("/stack/dev.env".into())
    }

    #[test]
    fn the_frontend_gets_the_api_the_secret_and_an_allowed_origin() {
        let settings = load(GENERATED, &[]);
        let secret = Secret::of(&settings, Some(&stack_file()), Path::new("/stack/dev.env"));
        assert_eq!(secret, Secret::Generated(GENERATED.into()));
        let text = super::settings(&settings, "http://127.0.0.1:8000", &secret);
        for line in [
            "  NEXT_PUBLIC_API_URL=http://127.0.0.1:8000\n".to_owned(),
            format!("  NEXTAUTH_SECRET={GENERATED}\n"),
            "  NEXTAUTH_URL=http://localhost:3000\n".to_owned(),
            "run it on http://localhost:3000: this backend allows calls from http://localhost:3000"
                .to_owned(),
        ] {
            assert!(text.contains(&line), "{line:?} in:\n{text}");
        }
        let settings = load(
            GENERATED,
            &[
                (
                    "ALLOWED_ORIGINS",
                    "http://localhost:3001,http://127.0.0.1:3001",
                ),
                ("FRONTEND_URL", "http://127.0.0.1:3001/welcome"),
            ],
        );
        let text = super::settings(&settings, "http://127.0.0.1:8001", &secret);
        assert!(
            text.contains("  NEXTAUTH_URL=http://127.0.0.1:3001\n"),
            "{text}"
        );
        assert!(
            text.contains("allows calls from http://localhost:3001,http://127.0.0.1:3001"),
            "{text}"
        );
    }

    #[test]
    fn a_secret_that_is_not_the_stacks_generated_one_is_never_printed() {
        let real = "a-real-looking-secret-from-somewhere-0123456789";
        let file = Path::new("/stack/dev.env");
        for (secret, origin, from) in [
            (real, ValueOrigin::Environment, "environment"),
            (GENERATED, ValueOrigin::Environment, "environment"),
            (real, stack_file(), "file /stack/dev.env, edited"),
            (
                GENERATED,
                ValueOrigin::File("/elsewhere/.env".into()),
                "file /elsewhere/.env",
            ),
        ] {
            let settings = load(secret, &[]);
            let shown = Secret::of(&settings, Some(&origin), file);
            let text = super::settings(&settings, "http://127.0.0.1:8000", &shown);
            assert!(!text.contains(secret), "{origin:?}: {text}");
            assert!(
                text.contains("  NEXTAUTH_SECRET=<the backend's NEXTAUTH_SECRET>\n")
                    && text.contains(&format!("(NEXTAUTH_SECRET comes from {from}")),
                "{origin:?}: {text}"
            );
        }
    }
}

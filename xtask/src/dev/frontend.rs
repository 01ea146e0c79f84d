//! What a local Next.js checkout of the IntoWork frontend needs to talk to this stack: the
//! API's address (browser- and server-side variables), the same NEXTAUTH_SECRET (sessions it
//! signs must decrypt here), and the address to run it on — an origin the backend allows.
//! Printed by `cargo xtask dev` once the backend is ready; the secret is the stack's generated
//! development one (target/dev/dev.env), never a real one.

use intowork_config::secrecy::ExposeSecret;
use intowork_config::{AllowedOrigins, Settings};

/// Next.js's development server, where the frontend runs when nothing says otherwise.
const NEXT_DEV: &str = "http://localhost:3000";

/// The lines for the frontend's `.env.local`, and where to run it.
pub(crate) fn settings(settings: &Settings, api: &str) -> String {
    let origin = match (settings.frontend_url(), settings.allowed_origins()) {
        (Some(url), _) => url.origin().ascii_serialization(),
        (None, AllowedOrigins::List(list)) if !list.is_empty() => list[0].to_string(),
        _ => NEXT_DEV.to_owned(),
    };
    let allowed = match settings.allowed_origins() {
        AllowedOrigins::Any => "any origin (ALLOWED_ORIGINS=*)".to_owned(),
        list => format!("{list} (ALLOWED_ORIGINS)"),
    };
    format!(
        "frontend: point a local Next.js checkout at this backend with, in its .env.local:\n\
         \x20 NEXT_PUBLIC_API_URL={api}\n\
         \x20 API_URL={api}\n\
         \x20 NEXTAUTH_SECRET={}\n\
         \x20 NEXTAUTH_URL={origin}\n\
         and run it on {origin}: this backend allows calls from {allowed}",
        settings.nextauth_secret().expose_secret()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use intowork_config::{Source, ValueOrigin};

    fn load(extra: &[(&str, &str)]) -> Settings {
        let mut pairs = vec![
            (
                "DATABASE_URL",
                "postgresql://u:p@localhost:5432/intowork?sslmode=require",
            ),
            (
                "NEXTAUTH_SECRET",
                "dev-frontend-settings-test-0123456789abcdef",
            ),
        ];
        pairs.extend_from_slice(extra);
        Settings::load(&Source::from_pairs(pairs, ValueOrigin::Environment))
            .unwrap_or_else(|e| panic!("{e}"))
            .settings
    }

    #[test]
    fn the_frontend_gets_the_api_the_secret_and_an_allowed_origin() {
        let text = settings(&load(&[]), "http://127.0.0.1:8000");
        for line in [
            "  NEXT_PUBLIC_API_URL=http://127.0.0.1:8000\n",
            "  NEXTAUTH_SECRET=dev-frontend-settings-test-0123456789abcdef\n",
            "  NEXTAUTH_URL=http://localhost:3000\n",
            "run it on http://localhost:3000: this backend allows calls from http://localhost:3000",
        ] {
            assert!(text.contains(line), "{line:?} in:\n{text}");
        }
        let text = settings(
            &load(&[
                (
                    "ALLOWED_ORIGINS",
                    "http://localhost:3001,http://127.0.0.1:3001",
                ),
                ("FRONTEND_URL", "http://127.0.0.1:3001/welcome"),
            ]),
            "http://127.0.0.1:8001",
        );
        assert!(
            text.contains("  NEXTAUTH_URL=http://127.0.0.1:3001\n"),
            "{text}"
        );
        assert!(
            text.contains("allows calls from http://localhost:3001,http://127.0.0.1:3001"),
            "{text}"
        );
    }
}

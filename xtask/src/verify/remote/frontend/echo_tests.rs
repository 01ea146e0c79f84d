//! Generated URLs in the frontend checks' variables: a user-info or a query value never
//! reaches a message or a fix (shown as [`intowork_config::shown_url`] shows them, query
//! values as placeholders in commands), and credentials never pass — the same rule as the
//! configuration's own `FRONTEND_URL` check (crates/config/tests/it/echoed_values.rs).

use intowork_config::{Check, Status};
use proptest::prelude::*;

use super::tests::{Fixture, custom, vars};
use super::{DEFAULT_API_VARS, api_url, origins};

/// A generated value, marked so no other text holds it (no `/`, `?`, `#`, `@`, `&`, `=`).
fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_+.~-]{14,40}".prop_map(|body| format!("zQ{body}"))
}

/// Every window of 10 characters of `s` that `text` shows, in any case.
fn shown_windows(text: &str, s: &str) -> Vec<String> {
    let text = text.to_lowercase();
    let chars: Vec<char> = s.to_lowercase().chars().collect();
    chars
        .windows(10)
        .map(|w| w.iter().collect::<String>())
        .filter(|w| text.contains(w.as_str()))
        .collect()
}

const HOST: &str = "app.intowork.example";

/// The check of `var` holding `url`: FRONTEND_URL on the backend, an API URL on the frontend,
/// with `HOST` the domain it must name (so only credentials can fail it).
fn checked(var: &str, url: &str) -> Check {
    if var == "FRONTEND_URL" {
        let (r, w) = vars(&[(var, Some(url))], &[]);
        let f = Fixture {
            backend: (r, w, Vec::new()),
            frontend: (Default::default(), Default::default(), vec![custom(HOST)]),
        };
        origins::frontend_url(&f.pair())
    } else {
        let (r, w) = vars(&[(var, Some(url))], &[]);
        let f = Fixture {
            backend: (Default::default(), Default::default(), vec![custom(HOST)]),
            frontend: (r, w, Vec::new()),
        };
        api_url::check(&f.pair(), &DEFAULT_API_VARS)
            .into_iter()
            .find(|c| c.variable.as_deref() == Some(var))
            .expect("the variable that is set is checked")
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn user_info_and_query_values_are_never_shown_and_credentials_never_pass(
        var in prop_oneof![Just("FRONTEND_URL"), Just("NEXT_PUBLIC_API_URL"), Just("API_URL")],
        user in "[a-z]{1,8}",
        pass in value(),
        param in prop_oneof![Just("ref"), Just("sig"), Just("lang"), Just("key"), Just("token"), Just("api_key")],
        query in value(),
        how in 0usize..4,
    ) {
        let url = match how {
            0 => format!("https://{user}:{pass}@{HOST}/welcome"),
            1 => format!("https://{HOST}/welcome?{param}={query}"),
            2 => format!("https://{user}:{pass}@{HOST}/welcome?a=1&{param}={query}"),
            _ => format!("https://{user}@{HOST}/?{param}={query}#{pass}"),
        };
        let c = checked(var, &url);
        let text = format!("{} {}", c.message, c.hint.as_deref().unwrap_or_default());
        // The check reached the URL (an early error must not count as "nothing shown").
        prop_assert!(text.contains(HOST), "{}", text);
        for hidden in [&pass, &query] {
            let leaked = shown_windows(&text, hidden);
            prop_assert!(leaked.is_empty(), "{:?} shown:\n{}", leaked, text);
        }
        prop_assert!(!text.contains(&format!("{user}@")), "{}", text);
        let credentials = intowork_config::carries_credentials(&url::Url::parse(&url).unwrap());
        prop_assert_eq!(credentials, how != 1 || matches!(param, "key" | "token" | "api_key"));
        if credentials {
            prop_assert_eq!(c.status, Status::Fail, "{}", text);
            prop_assert!(text.contains("carries credentials"), "{}", text);
        } else {
            prop_assert_eq!(c.status, Status::Pass, "{}", text);
        }
        if let Some(hint) = c.hint.as_ref().filter(|_| how != 0) {
            prop_assert!(hint.contains(&format!("{param}=<{param}>")), "{}", hint);
        }
    }
}

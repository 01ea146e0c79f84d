//! Assertions that read like the behaviour and say, when they fail, what was expected, what
//! came, and where it went wrong (ripgrep's `eqnice!` in spirit):
//!
//! - [`assert_contains!`](crate::assert_contains)`(text, needle)`: `text` holds `needle`; on failure,
//!   the needle, the text, and the longest start of the needle the text does hold, in context;
//! - [`assert_lacks!`](crate::assert_lacks)`(text, needle)`: `text` does not hold `needle`; on
//!   failure, every line that holds it, numbered;
//! - [`assert_no_secrets!`](crate::assert_no_secrets)`(text, fixture)`: none of the secrets the
//!   fixture generated ([`crate::ValidEnv::secrets`]) is in `text`.
//!
//! Each takes an optional message after the two arguments, formatted as `assert!`'s is.

/// Panics unless `text` contains `needle`, printing both and the closest part of `text`.
#[macro_export]
macro_rules! assert_contains {
    ($text:expr, $needle:expr $(,)?) => {
        $crate::assert::contains(::std::convert::AsRef::<str>::as_ref(&$text), &$needle.to_string(), None)
    };
    ($text:expr, $needle:expr, $($message:tt)+) => {
        $crate::assert::contains(
            ::std::convert::AsRef::<str>::as_ref(&$text),
            &$needle.to_string(),
            Some(::std::format!($($message)+)),
        )
    };
}

/// Panics if `text` contains `needle`, printing each line that holds it.
#[macro_export]
macro_rules! assert_lacks {
    ($text:expr, $needle:expr $(,)?) => {
        $crate::assert::lacks(::std::convert::AsRef::<str>::as_ref(&$text), &$needle.to_string(), None)
    };
    ($text:expr, $needle:expr, $($message:tt)+) => {
        $crate::assert::lacks(
            ::std::convert::AsRef::<str>::as_ref(&$text),
            &$needle.to_string(),
            Some(::std::format!($($message)+)),
        )
    };
}

/// Panics if `text` holds any secret the fixture generated (a [`crate::ValidEnv`], or anything
/// with a `secrets()` method), naming the secret and the lines that hold it.
#[macro_export]
macro_rules! assert_no_secrets {
    ($text:expr, $fixture:expr $(,)?) => {
        $crate::assert::no_secrets(::std::convert::AsRef::<str>::as_ref(&$text), &$fixture.secrets(), None)
    };
    ($text:expr, $fixture:expr, $($message:tt)+) => {
        $crate::assert::no_secrets(
            ::std::convert::AsRef::<str>::as_ref(&$text),
            &$fixture.secrets(),
            Some(::std::format!($($message)+)),
        )
    };
}

/// What [`assert_contains!`](crate::assert_contains) checks.
#[track_caller]
pub fn contains(text: &str, needle: &str, message: Option<String>) {
    if text.contains(needle) {
        return;
    }
    panic!(
        "{}expected the text to contain:\n{}\n{}\n--- the text ({} lines) ---\n{}",
        heading(message),
        indent(needle),
        closest(text, needle),
        text.lines().count(),
        excerpt(text),
    );
}

/// What [`assert_lacks!`](crate::assert_lacks) checks.
#[track_caller]
pub fn lacks(text: &str, needle: &str, message: Option<String>) {
    if !text.contains(needle) {
        return;
    }
    panic!(
        "{}expected the text NOT to contain:\n{}\n--- found at ---\n{}\n--- the text ({} lines) ---\n{}",
        heading(message),
        indent(needle),
        where_found(text, needle),
        text.lines().count(),
        excerpt(text),
    );
}

/// What [`assert_no_secrets!`](crate::assert_no_secrets) checks.
#[track_caller]
pub fn no_secrets<S: AsRef<str>>(text: &str, secrets: &[S], message: Option<String>) {
    assert!(
        !secrets.is_empty(),
        "the fixture named no secret to look for"
    );
    let leaked: Vec<&str> = secrets
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.is_empty() && text.contains(*s))
        .collect();
    if leaked.is_empty() {
        return;
    }
    let found: Vec<String> = leaked
        .iter()
        .map(|s| format!("secret `{s}`:\n{}", where_found(text, s)))
        .collect();
    panic!(
        "{}{} of the fixture's {} secrets leaked:\n{}\n--- the text ({} lines) ---\n{}",
        heading(message),
        leaked.len(),
        secrets.len(),
        found.join("\n"),
        text.lines().count(),
        excerpt(text),
    );
}

fn heading(message: Option<String>) -> String {
    message.map(|m| format!("{m}\n")).unwrap_or_default()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every line of `text` that holds `needle`, numbered (a multi-line needle: where it starts).
fn where_found(text: &str, needle: &str) -> String {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(needle).take(10) {
        let line = text[..at].matches('\n').count();
        let content = text.lines().nth(line).unwrap_or("");
        out.push(format!("{:>5} | {content}", line + 1));
    }
    out.join("\n")
}

/// The longest start of `needle` that `text` holds, with the line where it stops matching.
fn closest(text: &str, needle: &str) -> String {
    let mut best = 0;
    for (i, _) in needle.char_indices().skip(1).chain([(needle.len(), ' ')]) {
        if text.contains(&needle[..i]) {
            best = i;
        } else {
            break;
        }
    }
    if best == 0 {
        return "--- no part of its start appears in the text ---".to_owned();
    }
    let at = text.find(&needle[..best]).expect("just found");
    let line = text[..at].matches('\n').count();
    let shown = text.lines().nth(line).unwrap_or("");
    format!(
        "--- the text holds its first {best} bytes, `{}`, then differs; at line {} ---\n{:>5} | {shown}",
        &needle[..best].escape_debug(),
        line + 1,
        line + 1,
    )
}

/// The text itself, cut in the middle when it is long.
fn excerpt(text: &str) -> String {
    const HEAD: usize = 60;
    const TAIL: usize = 40;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= HEAD + TAIL {
        return text.to_owned();
    }
    format!(
        "{}\n[… {} lines …]\n{}",
        lines[..HEAD].join("\n"),
        lines.len() - HEAD - TAIL,
        lines[lines.len() - TAIL..].join("\n")
    )
}

#[cfg(test)]
mod tests {
    fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).expect_err("the assertion should fail");
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn contains_passes_and_fails_with_the_closest_line() {
        crate::assert_contains!("alpha\nbeta gamma", "beta");
        crate::assert_contains!(String::from("x"), 'x');
        let text = panic_text(|| {
            crate::assert_contains!("one\ntwo thr33\n", "two three", "in {}", "the run")
        });
        assert!(
            text.starts_with("in the run\nexpected the text to contain:\n    two three\n"),
            "{text}"
        );
        assert!(
            text.contains("first 7 bytes, `two thr`, then differs; at line 2"),
            "{text}"
        );
        assert!(text.contains("    2 | two thr33"), "{text}");
    }

    #[test]
    fn lacks_passes_and_fails_naming_each_line() {
        crate::assert_lacks!("alpha", "beta");
        let text = panic_text(|| crate::assert_lacks!("a\nb secret\nc secret", "secret"));
        assert!(
            text.contains("    2 | b secret\n    3 | c secret"),
            "{text}"
        );
    }

    #[test]
    fn no_secrets_names_the_secret_that_leaked() {
        struct Fixture;
        impl Fixture {
            fn secrets(&self) -> Vec<String> {
                vec!["s3cret-one".into(), "s3cret-two".into()]
            }
        }
        crate::assert_no_secrets!("nothing here", Fixture);
        let text = panic_text(|| crate::assert_no_secrets!("ok\nleak s3cret-two", Fixture));
        assert!(
            text.contains("1 of the fixture's 2 secrets leaked"),
            "{text}"
        );
        assert!(
            text.contains("secret `s3cret-two`:\n    2 | leak s3cret-two"),
            "{text}"
        );
    }

    #[test]
    fn a_long_text_is_cut_in_the_middle() {
        let long: String = (0..500).map(|i| format!("line {i}\n")).collect();
        let text = panic_text(move || crate::assert_contains!(long, "absent"));
        assert!(text.contains("[… 400 lines …]"), "{text}");
        assert!(text.contains("line 499"), "{text}");
    }
}

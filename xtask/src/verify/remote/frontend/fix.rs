//! The exact command that fixes a variable: `railway variables --service S --environment E
//! --set 'NAME=value'` (railwayapp 5.71.0, `src/commands/variable.rs`: the legacy spelling
//! the issue's users know, still accepted). Single-quoted for a POSIX shell, so that a
//! `${{…}}` reference reaches Railway as written instead of being expanded.

use super::Pair;

/// Which side of the pair holds the variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Backend,
    Frontend,
}

impl Pair<'_> {
    pub(crate) fn service(&self, side: Side) -> &str {
        match side {
            Side::Backend => self.backend.name,
            Side::Frontend => self.frontend.name,
        }
    }

    /// `railway variables --service S --environment E --set 'NAME=value'`.
    pub(crate) fn set(&self, side: Side, name: &str, value: &str) -> String {
        format!(
            "railway variables --service {} --environment {} --set {}",
            quote(self.service(side)),
            quote(self.environment),
            quote(&format!("{name}={value}"))
        )
    }

    /// `railway domain --service S --environment E`: generates a `*.up.railway.app` domain.
    pub(crate) fn generate_domain(&self, side: Side) -> String {
        format!(
            "railway domain --service {} --environment {}",
            quote(self.service(side)),
            quote(self.environment)
        )
    }
}

/// A word for a POSIX shell: bare when it is plain, else single-quoted.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:,@".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::remote::frontend::tests::Fixture;

    #[test]
    fn fixes_are_shell_words_that_keep_references_unexpanded() {
        let f = Fixture {
            backend: Default::default(),
            frontend: Default::default(),
        };
        let pair = f.pair();
        assert_eq!(
            pair.set(
                Side::Frontend,
                "NEXT_PUBLIC_API_URL",
                "https://${{backend.RAILWAY_PUBLIC_DOMAIN}}"
            ),
            "railway variables --service frontend --environment production --set 'NEXT_PUBLIC_API_URL=https://${{backend.RAILWAY_PUBLIC_DOMAIN}}'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("My Web"), "'My Web'");
        assert_eq!(
            pair.generate_domain(Side::Backend),
            "railway domain --service backend --environment production"
        );
    }
}

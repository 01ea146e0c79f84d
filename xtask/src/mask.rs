//! Replaces secret values with `****` before anything from the platform is printed.

use std::collections::BTreeMap;

/// The values to hide: the service's secret variables, passwords inside URL values, and
/// anything after `Bearer `.
#[derive(Debug, Clone, Default)]
pub(crate) struct Masker {
    secrets: Vec<String>,
}

/// Too short to be a secret worth hiding, and too likely to collide with ordinary text.
const MIN_SECRET_LEN: usize = 4;

impl Masker {
    pub(crate) fn from_variables(vars: &BTreeMap<String, String>) -> Masker {
        let mut secrets = Vec::new();
        for (name, value) in vars {
            if intowork_config::is_secret_name(name) {
                secrets.push(value.clone());
            }
            if let Some(pw) = url_password(value) {
                secrets.push(pw);
            }
        }
        secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        // Longest first, so a secret containing another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Masker { secrets }
    }

    pub(crate) fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "****");
            }
        }
        mask_bearer(&mask_url_passwords(&out))
    }

    pub(crate) fn mask_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.mask(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.mask_json(v)),
            _ => {}
        }
    }
}

fn url_password(value: &str) -> Option<String> {
    let url = url_after_scheme(value)?;
    let userinfo = url.split('@').next().filter(|_| url.contains('@'))?;
    let (_, pw) = userinfo.split_once(':')?;
    Some(pw.to_owned()).filter(|p| !p.is_empty())
}

fn url_after_scheme(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once("://")?;
    scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '+')
        .then_some(rest)
}

/// `scheme://user:secret@host` anywhere in a line → `scheme://user:****@host`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.find(':'), authority.find('@')) {
            (Some(colon), Some(at)) if colon < at && !authority[..colon].contains('/') => {
                out.push_str(&authority[..=colon]);
                out.push_str("****");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_bearer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("bearer ") {
        out.push_str(&rest[..i + 7]);
        let tail = &rest[i + 7..];
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
            .unwrap_or(tail.len());
        out.push_str(if end > 0 { "****" } else { "" });
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_urls_and_bearer_tokens_are_hidden() {
        let vars: BTreeMap<String, String> = [
            (
                "DATABASE_URL",
                "postgresql://postgres:pgpw-fake-123@postgres.railway.internal:5432/railway",
            ),
            ("NEXTAUTH_SECRET", "nextauth-fake-secret-value-0123456789"),
            ("RESEND_API_KEY", "re_fakekey123"),
            ("GITHUB_TOKEN", "ghp_faketoken"),
            ("PORT", "8000"),
            ("FRONTEND_URL", "https://app.example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let m = Masker::from_variables(&vars);
        let line = "secret=nextauth-fake-secret-value-0123456789 key re_fakekey123 pw pgpw-fake-123 gh ghp_faketoken port 8000 Authorization: Bearer abc.def.ghi url postgres://u:other-pw@h/db https://app.example.com";
        let masked = m.mask(line);
        for s in [
            "nextauth-fake-secret-value-0123456789",
            "re_fakekey123",
            "pgpw-fake-123",
            "ghp_faketoken",
            "abc.def.ghi",
            "other-pw",
        ] {
            assert!(!masked.contains(s), "{s} in {masked}");
        }
        assert!(
            masked.contains("port 8000") && masked.contains("https://app.example.com"),
            "{masked}"
        );
        assert!(masked.contains("postgres://u:****@h/db"), "{masked}");
        assert!(masked.contains("Bearer ****"), "{masked}");
    }
}

//! The one valid configuration every crate's tests start from, and the secrets it holds.
//!
//! Each crate's tests wrap it in their own form (config: a `Source`; db and backend:
//! `Settings` or the variables of a child process; xtask: the platform's variables), so the
//! variables that make a configuration valid, and the fake secrets, are written once.

/// The database password in [`ValidEnv::railway_url`]: obviously fake.
pub const DB_PASSWORD: &str = "pw-Fake7Qz9TestOnly";
/// `NEXTAUTH_SECRET`: obviously fake, long enough to pass.
pub const NEXTAUTH_SECRET: &str = "test-nextauth-7f3a9c1e5b2d8f4a6c0e9b1d3f5a7c9e";
/// `RESEND_API_KEY`: obviously fake, shaped like Resend's.
pub const RESEND_API_KEY: &str = "re_fakeTestKey123456";
/// The frontend's origin in the production forms.
pub const FRONTEND: &str = "https://app.intowork.example";
/// A sender `FROM_EMAIL` accepts.
pub const FROM_EMAIL: &str = "INTOWORK <noreply@intowork.example>";

/// Variables whose values are secrets (besides the passwords inside URL values).
const SECRET_VARIABLES: [&str; 2] = ["NEXTAUTH_SECRET", "RESEND_API_KEY"];

/// A valid configuration as variable pairs, in order; later settings replace earlier ones.
#[derive(Clone, Debug)]
pub struct ValidEnv {
    vars: Vec<(String, String)>,
    extra_secrets: Vec<String>,
}

impl ValidEnv {
    /// A valid development configuration: `DATABASE_URL` and `NEXTAUTH_SECRET`.
    pub fn development(database_url: &str) -> ValidEnv {
        ValidEnv {
            vars: vec![
                ("DATABASE_URL".into(), database_url.into()),
                ("NEXTAUTH_SECRET".into(), NEXTAUTH_SECRET.into()),
            ],
            extra_secrets: Vec::new(),
        }
    }

    /// A valid production configuration: development's, plus `ENVIRONMENT=production`,
    /// `ALLOWED_ORIGINS` and `FRONTEND_URL` (the frontend's origin).
    pub fn production(database_url: &str) -> ValidEnv {
        ValidEnv::development(database_url).with(&[
            ("ENVIRONMENT", "production"),
            ("ALLOWED_ORIGINS", FRONTEND),
            ("FRONTEND_URL", FRONTEND),
        ])
    }

    /// Email on: `RESEND_API_KEY` and `FROM_EMAIL`.
    pub fn with_email(self) -> ValidEnv {
        self.with(&[
            ("RESEND_API_KEY", RESEND_API_KEY),
            ("FROM_EMAIL", FROM_EMAIL),
        ])
    }

    /// A Railway-shaped database URL (the TCP proxy's host) carrying [`DB_PASSWORD`].
    pub fn railway_url(query: &str) -> String {
        format!(
            "postgresql://postgres:{DB_PASSWORD}@interchange.proxy.rlwy.net:41234/railway{query}"
        )
    }

    /// Sets each variable, replacing an earlier value (kept in its place) or appending.
    pub fn with(mut self, vars: &[(&str, &str)]) -> ValidEnv {
        for (name, value) in vars {
            match self.vars.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = (*value).to_owned(),
                None => self.vars.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        self
    }

    /// Removes a variable.
    pub fn without(mut self, name: &str) -> ValidEnv {
        self.vars.retain(|(n, _)| n != name);
        self
    }

    /// One more secret to look for (one the test generated itself, e.g. a database's password).
    pub fn knowing(mut self, secret: &str) -> ValidEnv {
        self.extra_secrets.push(secret.to_owned());
        self
    }

    /// The variables, in order.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.vars.clone()
    }

    /// One variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every secret this configuration holds: the values of the secret variables, the
    /// password of every URL value, and those added with [`ValidEnv::knowing`]. What
    /// [`assert_no_secrets!`](crate::assert_no_secrets) looks for.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self.extra_secrets.clone();
        for (name, value) in &self.vars {
            if SECRET_VARIABLES.contains(&name.as_str()) {
                out.push(value.clone());
            } else if let Some(password) = url_password(value) {
                out.push(password.to_owned());
            }
        }
        out.retain(|s| !s.is_empty());
        out.sort();
        out.dedup();
        out
    }
}

/// The password in `scheme://user:password@host…`, if any (user info ends at the last `@`).
fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    userinfo.split_once(':').map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_knows_every_secret_it_holds() {
        let env = ValidEnv::production(&ValidEnv::railway_url("?sslmode=require"))
            .with_email()
            .knowing("generated-1");
        let mut expected = [DB_PASSWORD, "generated-1", NEXTAUTH_SECRET, RESEND_API_KEY];
        expected.sort();
        assert_eq!(env.secrets(), expected);
        assert_eq!(env.get("ENVIRONMENT"), Some("production"));
        let env = env
            .with(&[("ENVIRONMENT", "staging")])
            .without("FROM_EMAIL");
        assert_eq!(
            env.vars()[2],
            ("ENVIRONMENT".to_owned(), "staging".to_owned())
        );
        assert_eq!(env.get("FROM_EMAIL"), None);
    }
}

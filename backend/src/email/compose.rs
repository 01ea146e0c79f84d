//! The messages' words and links. Links point at the frontend (`FRONTEND_URL`); without one
//! (development) the mail says where to look instead.

use std::sync::Arc;

use url::Url;

use super::{Email, Kind};
use crate::applications::status::Status;

/// What a message needs to know about the application.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub job_offer_id: i64,
    pub offer_title: &'a str,
    pub company: &'a str,
    pub candidate_name: &'a str,
    pub candidate_email: &'a str,
}

/// Where the frontend shows things. Shared, not copied: the application state that holds it
/// is cloned for every request.
#[derive(Debug, Clone)]
pub struct Links {
    frontend: Option<Arc<Url>>,
}

impl Links {
    pub fn new(frontend: Option<&Url>) -> Links {
        Links {
            frontend: frontend.cloned().map(Arc::new),
        }
    }

    fn to(&self, path: &str) -> String {
        match &self.frontend {
            Some(base) => base
                .join(path)
                .map_or_else(|_| path.to_owned(), |u| u.to_string()),
            None => format!("IntoWork ({path})"),
        }
    }
}

pub fn submitted_to_candidate(f: &Facts<'_>, links: &Links) -> Email {
    Email {
        kind: Kind::ApplicationSubmitted,
        to: f.candidate_email.to_owned(),
        subject: format!("Your application to {} at {}", f.offer_title, f.company),
        text: format!(
            "Hello {},\n\nWe received your application to \"{}\" at {}. You will hear from us when the employer moves it along.\n\nFollow it here: {}\n\n— IntoWork\n",
            f.candidate_name,
            f.offer_title,
            f.company,
            links.to("/applications")
        ),
    }
}

pub fn received_to_owner(f: &Facts<'_>, owner_email: &str, links: &Links) -> Email {
    Email {
        kind: Kind::ApplicationReceived,
        to: owner_email.to_owned(),
        subject: format!("New application for {}", f.offer_title),
        text: format!(
            "{} applied to \"{}\" at {}.\n\nReview the applications: {}\n\n— IntoWork\n",
            f.candidate_name,
            f.offer_title,
            f.company,
            links.to(&format!("/employer/jobs/{}/applications", f.job_offer_id))
        ),
    }
}

pub fn status_changed(f: &Facts<'_>, status: Status, links: &Links) -> Email {
    let news = match status {
        Status::Submitted => "has been submitted",
        Status::Reviewing => "is being reviewed",
        Status::Interview => "has moved to the interview stage",
        Status::Offered => "has led to an offer",
        Status::Hired => "has led to your hiring — congratulations",
        Status::Rejected => "was not retained this time",
        Status::Withdrawn => "has been withdrawn, as you asked",
    };
    Email {
        kind: Kind::StatusChanged,
        to: f.candidate_email.to_owned(),
        subject: format!("Your application to {}: {status}", f.offer_title),
        text: format!(
            "Hello {},\n\nYour application to \"{}\" at {} {news}.\n\nSee it here: {}\n\n— IntoWork\n",
            f.candidate_name,
            f.offer_title,
            f.company,
            links.to("/applications")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_frontend_url() {
        let facts = Facts {
            job_offer_id: 3,
            offer_title: "Rust engineer",
            company: "Acme",
            candidate_name: "Ann",
            candidate_email: "ann@example.com",
        };
        let url = Url::parse("https://app.intowork.example/").unwrap();
        let with = received_to_owner(&facts, "boss@acme.example", &Links::new(Some(&url)));
        assert!(
            with.text
                .contains("https://app.intowork.example/employer/jobs/3/applications"),
            "{}",
            with.text
        );
        assert_eq!(with.to, "boss@acme.example");
        let without = status_changed(&facts, Status::Hired, &Links::new(None));
        assert!(without.text.contains("IntoWork (/applications)"));
        assert_eq!(without.subject, "Your application to Rust engineer: hired");
    }
}

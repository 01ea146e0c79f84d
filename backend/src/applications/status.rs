//! An application's life: the employer moves it along (reviewing → interview → offered →
//! hired, or rejected at any open step), the candidate may withdraw it while it is open.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "application_status", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Submitted,
    Reviewing,
    Interview,
    Offered,
    Hired,
    Rejected,
    Withdrawn,
}

/// Who asks for the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The employer owning the offer's company.
    Employer,
    /// The candidate who applied.
    Candidate,
}

/// Why a change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This actor never sets this status (403).
    NotYours,
    /// The state machine forbids it from the current status (409).
    Forbidden,
}

pub const ALL: [Status; 7] = [
    Status::Submitted,
    Status::Reviewing,
    Status::Interview,
    Status::Offered,
    Status::Hired,
    Status::Rejected,
    Status::Withdrawn,
];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Reviewing => "reviewing",
            Status::Interview => "interview",
            Status::Offered => "offered",
            Status::Hired => "hired",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still in progress: it can be rejected or withdrawn.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::Reviewing | Status::Interview | Status::Offered
        )
    }

    /// Whether `actor` may move an application from `self` to `to`.
    pub fn change(self, to: Status, actor: Actor) -> Result<(), Refusal> {
        let allowed = match actor {
            Actor::Candidate if to != Status::Withdrawn => return Err(Refusal::NotYours),
            Actor::Employer if matches!(to, Status::Withdrawn | Status::Submitted) => {
                return Err(Refusal::NotYours);
            }
            Actor::Candidate => self.is_open(),
            Actor::Employer => match to {
                Status::Rejected => self.is_open(),
                Status::Reviewing => self == Status::Submitted,
                Status::Interview => self == Status::Reviewing,
                Status::Offered => self == Status::Interview,
                Status::Hired => self == Status::Offered,
                Status::Submitted | Status::Withdrawn => false,
            },
        };
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Forbidden)
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn the_whole_table() {
        let employer_ok = [
            (Submitted, Reviewing),
            (Reviewing, Interview),
            (Interview, Offered),
            (Offered, Hired),
            (Submitted, Rejected),
            (Reviewing, Rejected),
            (Interview, Rejected),
            (Offered, Rejected),
        ];
        for from in ALL {
            for to in ALL {
                let employer = from.change(to, Actor::Employer);
                let candidate = from.change(to, Actor::Candidate);
                let want_employer = if employer_ok.contains(&(from, to)) {
                    Ok(())
                } else if matches!(to, Withdrawn | Submitted) {
                    Err(Refusal::NotYours)
                } else {
                    Err(Refusal::Forbidden)
                };
                let want_candidate = match (to, from.is_open()) {
                    (Withdrawn, true) => Ok(()),
                    (Withdrawn, false) => Err(Refusal::Forbidden),
                    _ => Err(Refusal::NotYours),
                };
                assert_eq!(employer, want_employer, "employer {from} → {to}");
                assert_eq!(candidate, want_candidate, "candidate {from} → {to}");
            }
        }
        for s in ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("Hired"), None);
    }
}

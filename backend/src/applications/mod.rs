//! Candidates apply to published offers; the employer owning the offer's company moves the
//! application along; each change writes its email to the outbox in the same transaction.

pub mod status;
pub mod store;

use status::Status;

/// Why a request about applications is refused (each maps to one HTTP status).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("job offer {0} not found")]
    OfferNotFound(i64),
    #[error("application {0} not found")]
    ApplicationNotFound(i64),
    #[error("you already applied to job offer {0}")]
    AlreadyApplied(i64),
    #[error("only the employer owning this offer's company can see its applications")]
    NotOwner,
    #[error("you can neither see nor change application {0}")]
    NotYours(i64),
    #[error("{0}")]
    WrongActor(String),
    #[error("an application that is `{from}` cannot become `{to}`")]
    Transition { from: Status, to: Status },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

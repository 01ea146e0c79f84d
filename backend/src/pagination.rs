//! Keyset pagination, newest first: `?limit=&cursor=`, where the cursor is where the previous
//! page ended (`<timestamp in µs>_<id>`), so pages never skip or repeat rows as new ones arrive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit.as_deref() {
            None => Ok(DEFAULT_LIMIT),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "`limit` must be a whole number from 1 to {MAX_LIMIT}"
                    ))
                }),
        }
    }

    pub fn after(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }
}

/// PostgreSQL's earliest `timestamptz` (4714-11-24 00:00:00 BC), in µs since the Unix epoch:
/// a cursor before it would make the query fail (`timestamp out of range`). Its latest lies
/// beyond what `chrono` can hold.
pub const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// The sort key of the last row of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }

    pub fn decode(text: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::BadRequest("`cursor` is not one this API returned".to_owned());
        let (micros, id) = text.split_once('_').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        if micros < PG_MIN_MICROS {
            return Err(bad());
        }
        let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
        Ok(Cursor {
            at,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were fetched with `LIMIT limit + 1`: the extra row only says a next page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = Cursor {
            at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode(&format!("{PG_MIN_MICROS}_1")).is_ok());
        let before_postgres = format!("{}_1", PG_MIN_MICROS - 1);
        for bad in [
            "",
            "abc",
            "1_",
            "_1",
            "1.5_2",
            "99999999999999999999_1",
            "-8000000000000000000_1",
            &before_postgres,
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_extra_row_means_a_next_page() {
        let at = DateTime::from_timestamp_micros(0).unwrap();
        let page = Page::from_rows(vec![3, 2, 1], 2, |&id| Cursor { at, id });
        assert_eq!(page.items, vec![3, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("0_2"));
        let last = Page::from_rows(vec![1], 2, |&id| Cursor { at, id });
        assert_eq!(last.next_cursor, None);
    }
}

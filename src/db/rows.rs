//! The rows a statement returns, read by position with types checked: a column that is
//! missing or of another type is an internal error, never a panic.

use super::{DbError, Value};
use spin_sdk::sqlite3::QueryResult;

/// The rows of a statement, with typed access that never panics: a column that is
/// missing or of another type is an internal error.
pub struct Rows {
    pub(super) result: QueryResult,
    /// Leading columns the caller does not see (the schema version of `Db::read`).
    pub(super) skip: usize,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.result.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.result.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.result.rows.iter().map(|r| Row {
            values: &r.values,
            skip: self.skip,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// One row of [`Rows`].
#[derive(Clone, Copy)]
pub struct Row<'r> {
    values: &'r [Value],
    skip: usize,
}

impl Row<'_> {
    /// The number of columns the caller sees.
    pub fn len(&self) -> usize {
        self.values.len().saturating_sub(self.skip)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn value(&self, index: usize) -> Result<&Value, DbError> {
        self.values
            .get(index + self.skip)
            .ok_or_else(|| DbError::Other(format!("result has no column {index}")))
    }

    /// An integer column that may be NULL.
    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.value(index)? {
            Value::Integer(i) => Ok(Some(*i)),
            Value::Null => Ok(None),
            other => Err(type_error(index, "integer", other)),
        }
    }

    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        self.opt_int(index)?
            .ok_or_else(|| DbError::Other(format!("column {index} is NULL, expected integer")))
    }

    /// A text column that may be NULL.
    pub fn opt_text(&self, index: usize) -> Result<Option<&str>, DbError> {
        match self.value(index)? {
            Value::Text(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(type_error(index, "text", other)),
        }
    }

    pub fn text(&self, index: usize) -> Result<&str, DbError> {
        self.opt_text(index)?
            .ok_or_else(|| DbError::Other(format!("column {index} is NULL, expected text")))
    }
}

fn type_error(index: usize, expected: &str, got: &Value) -> DbError {
    let got = match got {
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
        Value::Null => "null",
    };
    DbError::Other(format!("column {index} is {got}, expected {expected}"))
}

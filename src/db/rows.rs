//! The rows a statement returns, read by column name with types checked: a column that
//! is missing or of another type is an internal error, never a panic. Names, not
//! positions, so a column added to a statement cannot shift what the others mean. A
//! name is looked up as the first column of that name: give every column of a statement
//! a name of its own (`AS …`).

use super::{DbError, Value};
use spin_sdk::sqlite3::QueryResult;

/// The rows of a statement, with typed access that never panics.
pub struct Rows {
    pub(super) result: QueryResult,
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
            columns: &self.result.columns,
            values: &r.values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    /// The name of the first column, if there is one.
    pub(super) fn first_column(&self) -> Option<&str> {
        self.result.columns.first().map(String::as_str)
    }
}

/// One row of [`Rows`].
#[derive(Clone, Copy)]
pub struct Row<'r> {
    columns: &'r [String],
    values: &'r [Value],
}

impl Row<'_> {
    fn value(&self, column: &str) -> Result<&Value, DbError> {
        self.columns
            .iter()
            .position(|name| name == column)
            .and_then(|at| self.values.get(at))
            .ok_or_else(|| DbError::Other(format!("result has no column {column}")))
    }

    /// An integer column that may be NULL.
    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, DbError> {
        match self.value(column)? {
            Value::Integer(i) => Ok(Some(*i)),
            Value::Null => Ok(None),
            other => Err(type_error(column, "integer", other)),
        }
    }

    pub fn int(&self, column: &str) -> Result<i64, DbError> {
        self.opt_int(column)?
            .ok_or_else(|| DbError::Other(format!("column {column} is NULL, expected integer")))
    }

    /// A text column that may be NULL.
    pub fn opt_text(&self, column: &str) -> Result<Option<&str>, DbError> {
        match self.value(column)? {
            Value::Text(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            other => Err(type_error(column, "text", other)),
        }
    }

    pub fn text(&self, column: &str) -> Result<&str, DbError> {
        self.opt_text(column)?
            .ok_or_else(|| DbError::Other(format!("column {column} is NULL, expected text")))
    }
}

fn type_error(column: &str, expected: &str, got: &Value) -> DbError {
    let got = match got {
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
        Value::Null => "null",
    };
    DbError::Other(format!("column {column} is {got}, expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::sqlite3::RowResult;

    fn rows() -> Rows {
        Rows {
            result: QueryResult {
                columns: vec!["id".into(), "name".into(), "gone".into()],
                rows: vec![RowResult {
                    values: vec![
                        Value::Integer(25),
                        Value::Text("pikachu".into()),
                        Value::Null,
                    ],
                }],
            },
        }
    }

    #[test]
    fn columns_are_read_by_name_and_type() {
        let rows = rows();
        let row = rows.first().unwrap();
        assert_eq!(row.int("id").unwrap(), 25);
        assert_eq!(row.text("name").unwrap(), "pikachu");
        assert_eq!(row.opt_int("gone").unwrap(), None);
        assert_eq!(rows.first_column(), Some("id"));
    }

    #[test]
    fn a_missing_or_mistyped_column_is_an_error_not_a_panic() {
        let rows = rows();
        let row = rows.first().unwrap();
        for err in [
            row.int("nope").unwrap_err(),
            row.int("name").unwrap_err(),
            row.text("gone").unwrap_err(),
        ] {
            assert!(matches!(err, DbError::Other(_)), "{err:?}");
        }
    }
}

//! Bulk statements: the rows of a statement passed as one JSON array parameter, read back as a
//! table by the database (`json_each` on SQLite, `jsonb_array_elements` on PostgreSQL). A group
//! of pushes is then written with one statement per table, whatever its size; binding thousands
//! of `$n` parameters instead would cost one statement per few hundred rows, and on SQLite a
//! time quadratic in their number (each parameter is looked up by name in a list).

use sqlx::AnyConnection;

use crate::StoreError;

/// Most rows per bulk statement, so that one statement's JSON stays a few hundred kilobytes.
const ROWS_PER_STATEMENT: usize = 5_000;

/// The type of a column of bulk rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column {
    Text,
    Int,
    Real,
}

/// Whether the connection is to SQLite (otherwise PostgreSQL).
pub(crate) fn is_sqlite(connection: &AnyConnection) -> bool {
    connection.backend_name() == "SQLite"
}

/// `SELECT c0, c1, … FROM <rows of $1>`, typed by `columns`, in the rows' order. The SQLite
/// form ends with a WHERE clause, which SQLite requires before an upsert's ON CONFLICT.
pub(crate) fn select_rows(sqlite: bool, columns: &[Column]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| match (sqlite, column) {
            (true, Column::Text) => format!("r.value ->> {i} AS c{i}"),
            (true, Column::Int) => format!("CAST(r.value ->> {i} AS INTEGER) AS c{i}"),
            (true, Column::Real) => format!("CAST(r.value ->> {i} AS REAL) AS c{i}"),
            (false, Column::Text) => format!("r.v ->> {i} AS c{i}"),
            (false, Column::Int) => format!("(r.v ->> {i})::bigint AS c{i}"),
            (false, Column::Real) => format!("(r.v ->> {i})::double precision AS c{i}"),
        })
        .collect();
    if sqlite {
        format!(
            "SELECT {} FROM json_each($1) AS r WHERE true ORDER BY r.key",
            fields.join(", ")
        )
    } else {
        format!(
            "SELECT {} FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(v, n) ORDER BY r.n",
            fields.join(", ")
        )
    }
}

/// `(SELECT value FROM <strings of $1>)`: the values of a JSON array of strings, for `IN`.
pub(crate) fn strings(sqlite: bool) -> &'static str {
    if sqlite {
        "(SELECT value FROM json_each($1))"
    } else {
        "(SELECT jsonb_array_elements_text($1::jsonb))"
    }
}

/// Runs `<head> <select_rows> <tail>` over `rows` (each a JSON array matching `columns`), in
/// statements of at most [`ROWS_PER_STATEMENT`] rows; returns how many rows were written.
pub(crate) async fn insert(
    connection: &mut AnyConnection,
    head: &str,
    columns: &[Column],
    tail: &str,
    rows: &[serde_json::Value],
) -> Result<u64, StoreError> {
    let sql = format!(
        "{head} {} {tail}",
        select_rows(is_sqlite(connection), columns)
    );
    let mut written = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let parameter = serde_json::to_string(chunk).map_err(StoreError::other)?;
        written += sqlx::query(&sql)
            .bind(parameter)
            .execute(&mut *connection)
            .await?
            .rows_affected();
    }
    Ok(written)
}

/// Runs `query` (which reads its values with [`strings`] or [`select_rows`]) over `values` in
/// chunks, and returns every row.
pub(crate) async fn fetch<T: serde::Serialize>(
    connection: &mut AnyConnection,
    query: &str,
    values: &[T],
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let mut rows = Vec::new();
    for chunk in values.chunks(ROWS_PER_STATEMENT) {
        let parameter = serde_json::to_string(chunk).map_err(StoreError::other)?;
        rows.extend(
            sqlx::query(query)
                .bind(parameter)
                .fetch_all(&mut *connection)
                .await?,
        );
    }
    Ok(rows)
}

//! Lists read as one row: the rows of a page (a query whose columns are named `c0`, `c1`, …)
//! gathered by the database into one JSON array of arrays (`json_group_array` on SQLite,
//! `json_agg` on PostgreSQL), then read into typed tuples. The SQLite driver runs each query
//! on its own thread and hands every row back across threads; a page of a hundred rows cost
//! a hundred such hand-overs, which is where the pages' time went under load
//! (docs/benchmarks.md, « Pages web : où passe le temps »). One row costs one.

use serde::de::DeserializeOwned;
use sqlx::{AnyPool, Row};

use crate::inventory::{Arg, build};
use crate::{Backend, StoreError};

/// `SELECT <the rows of inner as one JSON array, ordered by order>`: `inner` is a SELECT whose
/// `columns` columns are named `c0`…; `order` an ORDER BY list over those names.
pub(crate) fn one_row(backend: Backend, inner: &str, columns: usize, order: &str) -> String {
    let names: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    let names = names.join(", ");
    match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({names}) ORDER BY {order}) FROM ({inner}) AS page"
        ),
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({names}) ORDER BY {order})::text, '[]') FROM ({inner}) AS page"
        ),
    }
}

/// Runs [`one_row`] and reads each row as `T` (a tuple of the columns' types, `Option` for
/// those that may be NULL).
pub(crate) async fn fetch<T: DeserializeOwned>(
    pool: &AnyPool,
    backend: Backend,
    inner: &str,
    columns: usize,
    order: &str,
    args: Vec<Arg>,
) -> Result<Vec<T>, StoreError> {
    let sql = one_row(backend, inner, columns, order);
    let row = build(&sql, args).fetch_one(pool).await?;
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::other(anyhow::anyhow!("page illisible : {e}")))
}

/// Like [`fetch`], but the rows come in no particular order (the caller sorts them): for a
/// report's large reads, where the database would otherwise sort what the caller groups anyway.
pub(crate) async fn fetch_unordered<T: DeserializeOwned>(
    pool: &AnyPool,
    backend: Backend,
    inner: &str,
    columns: usize,
    args: Vec<Arg>,
) -> Result<Vec<T>, StoreError> {
    let names: Vec<String> = (0..columns).map(|i| format!("c{i}")).collect();
    let names = names.join(", ");
    let sql = match backend {
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({names})) FROM ({inner}) AS page")
        }
        Backend::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_array({names}))::text, '[]') FROM ({inner}) AS page"
        ),
    };
    let row = build(&sql, args).fetch_one(pool).await?;
    let text: String = row.try_get(0)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::other(anyhow::anyhow!("page illisible : {e}")))
}

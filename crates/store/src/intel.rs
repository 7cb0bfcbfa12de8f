//! Intelligence-hub tables: STIX objects kept per TAXII collection (every version, as JSON text, with the columns
//! TAXII filters on), collections, organisation accounts with per-collection rights, and TAXII status resources.
//! The STIX meaning (validation, TLP levels, versions) is decided by `mamori-intel`; this module only keeps rows
//! and answers filtered, keyset-paginated queries.

use std::collections::HashMap;

use sqlx::Row;

use crate::{Backend, Result, Store, StoreError, now_ms};

/// One STIX object version to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIntelObject {
    /// STIX id (`type--uuid`).
    pub id: String,
    /// STIX type.
    pub object_type: String,
    /// `spec_version` (`2.1`).
    pub spec_version: String,
    /// Version as written (`modified`, else `created`, else the date added), RFC 3339.
    pub version: String,
    /// The same version in Unix microseconds (ordering and exact matching).
    pub version_us: i64,
    /// Organisation that wrote it (account id), if known.
    pub org: Option<String>,
    /// TLP level (`clear`, `green`, `amber`, `amber+strict`, `red`), if marked.
    pub tlp: Option<String>,
    /// `revoked` property.
    pub revoked: bool,
    /// `x_mitre_deprecated` property.
    pub deprecated: bool,
    /// The object, JSON text.
    pub json: String,
}

/// A kept STIX object version.
#[derive(Debug, Clone, PartialEq)]
pub struct IntelObject {
    /// Collection it is in.
    pub collection: String,
    /// What was stored.
    pub object: NewIntelObject,
    /// When it was added to the collection, Unix microseconds.
    pub date_added_us: i64,
}

/// What to do with older versions of an object when a version is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPolicy {
    /// Keep every version (TAXII collections).
    KeepAll,
    /// Keep only the newest version (reference data such as ATT&CK, updated in place on re-import).
    NewestOnly,
}

/// Counts of a write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutSummary {
    /// New object versions added.
    pub added: u64,
    /// Versions already present (same id and version), left as they were.
    pub unchanged: u64,
    /// Older versions removed ([`VersionPolicy::NewestOnly`]).
    pub replaced: u64,
    /// Versions older than the kept one, not written ([`VersionPolicy::NewestOnly`]).
    pub stale: u64,
}

/// Which versions of each object a query returns (TAXII `match[version]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum VersionMatch {
    /// Newest version only (the TAXII default).
    #[default]
    Last,
    /// Oldest version only.
    First,
    /// Every version.
    All,
    /// Versions with exactly these times (Unix microseconds).
    Exact(Vec<i64>),
}

/// Who is asking: TLP:RED and TLP:AMBER+STRICT objects are returned only to their owning organisation or to a
/// reader allowed restricted objects in the collection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visibility {
    /// Asking organisation, if any.
    pub org: Option<String>,
    /// True when the reader may see restricted objects (a grant, or a local administrator).
    pub restricted: bool,
}

/// Position after the last object of a page (keyset pagination).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Date added of the last object, Unix microseconds.
    pub date_added_us: i64,
    /// Its id.
    pub id: String,
    /// Its version, Unix microseconds.
    pub version_us: i64,
}

/// A filtered query on one collection.
#[derive(Debug, Clone, Default)]
pub struct IntelQuery {
    /// Collection.
    pub collection: String,
    /// `match[type]` (empty: any).
    pub types: Vec<String>,
    /// `match[id]` (empty: any).
    pub ids: Vec<String>,
    /// `match[spec_version]` (empty: any).
    pub spec_versions: Vec<String>,
    /// `match[version]`.
    pub version: VersionMatch,
    /// Only objects added strictly after this time (Unix microseconds).
    pub added_after_us: Option<i64>,
    /// Continue after this position.
    pub after: Option<Cursor>,
    /// Most objects returned.
    pub limit: i64,
    /// Reader.
    pub visibility: Visibility,
}

/// A collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelCollection {
    /// Id (TAXII uses the id in URLs).
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
}

/// An organisation account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntelOrg {
    /// Account id (also the HTTP Basic user name).
    pub id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the secret, lower-case hex.
    pub secret_sha256: String,
}

/// Rights of an organisation on a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Grant {
    /// May read objects.
    pub read: bool,
    /// May add objects.
    pub write: bool,
    /// May read TLP:RED and TLP:AMBER+STRICT objects of other organisations.
    pub restricted: bool,
}

const OBJECT_COLUMNS: &str = "collection, id, version, version_us, type, spec_version, date_added, org, tlp, revoked, deprecated, object";

impl Store {
    /// Writes object versions into `collection` in one transaction. `date_added_us` is the time recorded for new
    /// versions. Existing versions (same id and version) are left untouched, so writing the same objects again
    /// changes nothing. The newest version of each id is flagged (`is_latest`) for the default TAXII reads.
    ///
    /// Rows go in as multi-row INSERTs of [`PUT_CHUNK`] objects, and the stored versions of a chunk are looked up
    /// in one query: one statement per object made a 25,000-object ATT&CK import spend seconds in round trips.
    pub async fn intel_put_objects(
        &self,
        collection: &str,
        objects: &[NewIntelObject],
        policy: VersionPolicy,
        date_added_us: i64,
    ) -> Result<PutSummary> {
        let mut conn = self.pool().acquire().await?;
        // A bulk write (an ATT&CK import: 35 MB over six b-trees) spills SQLite's default 2 MB page cache to the
        // WAL again and again; a larger cache for this connection while it writes avoids that.
        let bulk = self.backend() == Backend::Sqlite && objects.len() >= BULK_OBJECTS;
        if bulk {
            sqlx::query("PRAGMA cache_size = -262144")
                .execute(&mut *conn)
                .await?;
        }
        let result = put_objects(
            self.backend(),
            &mut conn,
            collection,
            objects,
            policy,
            date_added_us,
        )
        .await;
        if bulk {
            // Back to the default, so a pooled connection does not keep the pages.
            sqlx::query("PRAGMA cache_size = -2000")
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    /// Objects of a collection matching `query`, in the order they were added (then id, version), at most
    /// `query.limit`, plus whether more follow.
    pub async fn intel_query(&self, query: &IntelQuery) -> Result<(Vec<IntelObject>, bool)> {
        let mut sql =
            format!("SELECT {OBJECT_COLUMNS} FROM intel_object o WHERE o.collection = $1");
        let mut binds: Vec<Bind> = vec![Bind::Text(query.collection.clone())];
        let push_in = |sql: &mut String, binds: &mut Vec<Bind>, column: &str, values: &[String]| {
            if values.is_empty() {
                return;
            }
            sql.push_str(&format!(" AND o.{column} IN ("));
            for (i, value) in values.iter().enumerate() {
                binds.push(Bind::Text(value.clone()));
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", binds.len()));
            }
            sql.push(')');
        };
        push_in(&mut sql, &mut binds, "type", &query.types);
        push_in(&mut sql, &mut binds, "id", &query.ids);
        push_in(&mut sql, &mut binds, "spec_version", &query.spec_versions);
        if let Some(after) = query.added_after_us {
            binds.push(Bind::Int(after));
            sql.push_str(&format!(" AND o.date_added > ${}", binds.len()));
        }
        if !query.visibility.restricted {
            sql.push_str(" AND (o.tlp IS NULL OR o.tlp NOT IN ('red', 'amber+strict')");
            if let Some(org) = &query.visibility.org {
                binds.push(Bind::Text(org.clone()));
                sql.push_str(&format!(" OR o.org = ${}", binds.len()));
            }
            sql.push(')');
        }
        match &query.version {
            VersionMatch::All => {}
            // A literal (not a parameter) so the planner can use the partial `is_latest = 1` indexes.
            VersionMatch::Last => sql.push_str(" AND o.is_latest = 1"),
            VersionMatch::First => sql.push_str(
                " AND o.version_us = (SELECT MIN(v.version_us) FROM intel_object v WHERE v.collection = o.collection AND v.id = o.id)",
            ),
            VersionMatch::Exact(times) => {
                sql.push_str(" AND o.version_us IN (");
                for (i, t) in times.iter().enumerate() {
                    binds.push(Bind::Int(*t));
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${}", binds.len()));
                }
                if times.is_empty() {
                    sql.push_str("NULL");
                }
                sql.push(')');
            }
        }
        if let Some(cursor) = &query.after {
            binds.push(Bind::Int(cursor.date_added_us));
            let d = binds.len();
            binds.push(Bind::Text(cursor.id.clone()));
            let i = binds.len();
            binds.push(Bind::Int(cursor.version_us));
            let v = binds.len();
            // A row-value comparison lets both databases walk the (collection, date_added, id, version_us) index.
            sql.push_str(&format!(
                " AND (o.date_added, o.id, o.version_us) > (${d}, ${i}, ${v})"
            ));
        }
        binds.push(Bind::Int(query.limit.max(0) + 1));
        sql.push_str(&format!(
            " ORDER BY o.date_added, o.id, o.version_us LIMIT ${}",
            binds.len()
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            q = match bind {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut objects = rows
            .iter()
            .map(object_from_row)
            .collect::<Result<Vec<_>>>()?;
        let more = objects.len() as i64 > query.limit.max(0);
        objects.truncate(query.limit.max(0) as usize);
        Ok((objects, more))
    }

    /// Refreshes the planner statistics of the object table (after bulk loads).
    pub async fn intel_analyze(&self) -> Result<()> {
        sqlx::query("ANALYZE intel_object")
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Number of object versions in a collection (all collections when `None`).
    pub async fn intel_count(&self, collection: Option<&str>) -> Result<i64> {
        let row = match collection {
            Some(c) => {
                sqlx::query("SELECT COUNT(*) FROM intel_object WHERE collection = $1")
                    .bind(c)
                    .fetch_one(self.pool())
                    .await?
            }
            None => {
                sqlx::query("SELECT COUNT(*) FROM intel_object")
                    .fetch_one(self.pool())
                    .await?
            }
        };
        Ok(row.try_get(0)?)
    }

    /// Newest version of every object of `types` in a collection, not revoked (for building in-memory indexes
    /// such as the ATT&CK knowledge base).
    pub async fn intel_latest_of_types(
        &self,
        collection: &str,
        types: &[&str],
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for object_type in types {
            let rows = sqlx::query(
                "SELECT o.object FROM intel_object o WHERE o.collection = $1 AND o.type = $2 AND o.is_latest = 1
                 ORDER BY o.id",
            )
            .bind(collection)
            .bind(*object_type)
            .fetch_all(self.pool())
            .await?;
            for row in rows {
                out.push(row.try_get::<String, _>(0)?);
            }
        }
        Ok(out)
    }

    /// Creates a collection, or updates its title and description.
    pub async fn intel_put_collection(&self, collection: &IntelCollection) -> Result<()> {
        sqlx::query(
            "INSERT INTO intel_collection (id, title, description, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, description = excluded.description",
        )
        .bind(&collection.id)
        .bind(&collection.title)
        .bind(collection.description.as_deref())
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every collection, by id.
    pub async fn intel_collections(&self) -> Result<Vec<IntelCollection>> {
        let rows = sqlx::query("SELECT id, title, description FROM intel_collection ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(IntelCollection {
                    id: row.try_get("id")?,
                    title: row.try_get("title")?,
                    description: row.try_get("description")?,
                })
            })
            .collect()
    }

    /// Creates an organisation account or replaces its name and secret.
    pub async fn intel_put_org(&self, org: &IntelOrg) -> Result<()> {
        sqlx::query(
            "INSERT INTO intel_org (id, name, secret_sha256, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_sha256 = excluded.secret_sha256",
        )
        .bind(&org.id)
        .bind(&org.name)
        .bind(&org.secret_sha256)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One organisation account.
    pub async fn intel_org(&self, id: &str) -> Result<Option<IntelOrg>> {
        let row = sqlx::query("SELECT id, name, secret_sha256 FROM intel_org WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| org_from_row(&row)).transpose()
    }

    /// Every organisation account, by id.
    pub async fn intel_orgs(&self) -> Result<Vec<IntelOrg>> {
        let rows = sqlx::query("SELECT id, name, secret_sha256 FROM intel_org ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    /// Sets the rights of an organisation on a collection.
    pub async fn intel_put_grant(&self, org: &str, collection: &str, grant: Grant) -> Result<()> {
        sqlx::query(
            "INSERT INTO intel_grant (org, collection, can_read, can_write, restricted) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (org, collection) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write, restricted = excluded.restricted",
        )
        .bind(org)
        .bind(collection)
        .bind(i64::from(grant.read))
        .bind(i64::from(grant.write))
        .bind(i64::from(grant.restricted))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Rights of every organisation, as (org, collection, grant).
    pub async fn intel_grants(&self) -> Result<Vec<(String, String, Grant)>> {
        let rows = sqlx::query(
            "SELECT org, collection, can_read, can_write, restricted FROM intel_grant ORDER BY org, collection",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("org")?,
                    row.try_get("collection")?,
                    Grant {
                        read: row.try_get::<i64, _>("can_read")? != 0,
                        write: row.try_get::<i64, _>("can_write")? != 0,
                        restricted: row.try_get::<i64, _>("restricted")? != 0,
                    },
                ))
            })
            .collect()
    }

    /// Rights of `org` on `collection` (none when no grant exists).
    pub async fn intel_grant(&self, org: &str, collection: &str) -> Result<Grant> {
        let row = sqlx::query(
            "SELECT can_read, can_write, restricted FROM intel_grant WHERE org = $1 AND collection = $2",
        )
        .bind(org)
        .bind(collection)
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(Grant::default()),
            Some(row) => Ok(Grant {
                read: row.try_get::<i64, _>("can_read")? != 0,
                write: row.try_get::<i64, _>("can_write")? != 0,
                restricted: row.try_get::<i64, _>("restricted")? != 0,
            }),
        }
    }

    /// Keeps a TAXII status resource (JSON text).
    pub async fn intel_put_status(&self, id: &str, org: Option<&str>, status: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO intel_status (id, org, created_at, status) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status",
        )
        .bind(id)
        .bind(org)
        .bind(now_ms())
        .bind(status)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A TAXII status resource and the organisation that created it.
    pub async fn intel_status(&self, id: &str) -> Result<(Option<String>, String)> {
        let row = sqlx::query("SELECT org, status FROM intel_status WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("status {id}")))?;
        Ok((row.try_get("org")?, row.try_get("status")?))
    }
}

/// The body of [`Store::intel_put_objects`], in one transaction on `conn`.
async fn put_objects(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    collection: &str,
    objects: &[NewIntelObject],
    policy: VersionPolicy,
    date_added_us: i64,
) -> Result<PutSummary> {
    let mut summary = PutSummary::default();
    let mut tx = sqlx::Connection::begin(conn).await?;
    match policy {
        VersionPolicy::KeepAll => {
            for chunk in objects.chunks(PUT_CHUNK) {
                let rows: Vec<&NewIntelObject> = chunk.iter().collect();
                // is_latest is decided here from the newest stored version of each id (one grouped lookup);
                // a correlated MAX per row in an UPDATE took PostgreSQL seconds per chunk.
                let stored = stored_newest(backend, &mut tx, collection, &rows).await?;
                let mut newest: HashMap<&str, i64> = HashMap::with_capacity(rows.len());
                for o in &rows {
                    let v = newest.entry(o.id.as_str()).or_insert(o.version_us);
                    *v = (*v).max(o.version_us);
                }
                let superseded: Vec<&str> = newest
                    .iter()
                    .filter(|(id, v)| stored.get(**id).is_some_and(|s| *s < **v))
                    .map(|(id, _)| *id)
                    .collect();
                if !superseded.is_empty() {
                    let mut sql = String::from(
                        "UPDATE intel_object SET is_latest = 0 WHERE collection = $1 AND is_latest = 1 AND id IN (",
                    );
                    push_placeholders(&mut sql, 2, superseded.len());
                    sql.push(')');
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(collection);
                    for id in &superseded {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *tx).await?;
                }
                let latest: Vec<bool> = rows
                    .iter()
                    .map(|o| {
                        let v = newest.get(o.id.as_str()).copied().unwrap_or(i64::MIN);
                        o.version_us == v && stored.get(o.id.as_str()).is_none_or(|s| *s < v)
                    })
                    .collect();
                let added =
                    insert_rows(backend, &mut tx, collection, &rows, date_added_us, &latest)
                        .await?;
                summary.added += added;
                summary.unchanged += rows.len() as u64 - added;
            }
        }
        VersionPolicy::NewestOnly => {
            // Only the newest version of an id in the batch competes with the stored one.
            let mut newest: HashMap<&str, usize> = HashMap::with_capacity(objects.len());
            for (i, object) in objects.iter().enumerate() {
                match newest.get(object.id.as_str()) {
                    Some(&j) if objects[j].version_us >= object.version_us => {
                        if objects[j].version_us == object.version_us {
                            summary.unchanged += 1;
                        } else {
                            summary.stale += 1;
                        }
                    }
                    Some(_) => {
                        summary.stale += 1;
                        newest.insert(object.id.as_str(), i);
                    }
                    None => {
                        newest.insert(object.id.as_str(), i);
                    }
                }
            }
            let candidates: Vec<&NewIntelObject> = objects
                .iter()
                .enumerate()
                .filter(|(i, o)| newest.get(o.id.as_str()) == Some(i))
                .map(|(_, o)| o)
                .collect();
            for chunk in candidates.chunks(PUT_CHUNK) {
                let stored = stored_newest(backend, &mut tx, collection, chunk).await?;
                let mut insert = Vec::with_capacity(chunk.len());
                let mut replace = Vec::new();
                for object in chunk {
                    match stored.get(object.id.as_str()) {
                        Some(&v) if v > object.version_us => summary.stale += 1,
                        Some(&v) if v == object.version_us => summary.unchanged += 1,
                        Some(_) => {
                            replace.push(*object);
                            insert.push(*object);
                        }
                        None => insert.push(*object),
                    }
                }
                if !replace.is_empty() {
                    let mut sql =
                        String::from("DELETE FROM intel_object WHERE collection = $1 AND id IN (");
                    push_placeholders(&mut sql, 2, replace.len());
                    sql.push(')');
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(collection);
                    for object in &replace {
                        q = q.bind(object.id.as_str());
                    }
                    summary.replaced += q.execute(&mut *tx).await?.rows_affected();
                }
                // One version per id is kept, so every row written is the newest.
                summary.added += insert_rows(
                    backend,
                    &mut tx,
                    collection,
                    &insert,
                    date_added_us,
                    &vec![true; insert.len()],
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(summary)
}

/// Writes of at least this many objects get a larger SQLite page cache.
const BULK_OBJECTS: usize = 2000;

/// Objects per multi-row statement: 13 parameters a row (6,500) stays far below SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters.
pub const PUT_CHUNK: usize = 500;

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Appends `$first, $first+1, …` (`count` placeholders, comma-separated).
fn push_placeholders(sql: &mut String, first: usize, count: usize) {
    for i in 0..count {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", first + i));
    }
}

/// Inserts rows (existing (collection, id, version) rows are left alone); returns how many were added.
async fn insert_rows(
    backend: Backend,
    tx: &mut Tx<'_>,
    collection: &str,
    rows: &[&NewIntelObject],
    date_added_us: i64,
    latest: &[bool],
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut sql = format!("INSERT INTO intel_object ({OBJECT_COLUMNS}, is_latest) VALUES ");
    // SQLite gets anonymous `?` placeholders: sqlx resolves every numbered one through
    // sqlite3_bind_parameter_name, a linear scan, which made 6,500-parameter statements quadratic (half the
    // import's CPU time). PostgreSQL needs `$n`.
    let mut n = 0;
    for r in 0..rows.len() {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..13 {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${n}")),
            }
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (collection, id, version_us) DO NOTHING");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (o, latest) in rows.iter().zip(latest) {
        q = q
            .bind(collection)
            .bind(o.id.as_str())
            .bind(o.version.as_str())
            .bind(o.version_us)
            .bind(o.object_type.as_str())
            .bind(o.spec_version.as_str())
            .bind(date_added_us)
            .bind(o.org.as_deref())
            .bind(o.tlp.as_deref())
            .bind(i64::from(o.revoked))
            .bind(i64::from(o.deprecated))
            .bind(o.json.as_str())
            .bind(i64::from(*latest));
    }
    Ok(q.execute(&mut **tx).await?.rows_affected())
}

/// Newest stored version of each id of `rows`.
async fn stored_newest(
    backend: Backend,
    tx: &mut Tx<'_>,
    collection: &str,
    rows: &[&NewIntelObject],
) -> Result<HashMap<String, i64>> {
    // PostgreSQL: a join with a VALUES list, because it planned a 500-value `id IN (…)` as a sequential scan
    // comparing every row with every value (2 s per chunk at 100,000 rows). SQLite: the IN list, which it answers
    // from the primary key, while it would scan the table for the join.
    let mut sql = match backend {
        Backend::Postgres => String::from("WITH w(id) AS (VALUES "),
        Backend::Sqlite => String::from(
            "SELECT id, MAX(version_us) FROM intel_object WHERE collection = $1 AND id IN (",
        ),
    };
    for i in 0..rows.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        match backend {
            Backend::Postgres => sql.push_str(&format!("(${})", i + 2)),
            Backend::Sqlite => sql.push_str(&format!("${}", i + 2)),
        }
    }
    sql.push_str(match backend {
        Backend::Postgres => {
            ") SELECT o.id, MAX(o.version_us) FROM w JOIN intel_object o ON o.collection = $1 AND o.id = w.id GROUP BY o.id"
        }
        Backend::Sqlite => ") GROUP BY id",
    });
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(collection);
    for o in rows {
        q = q.bind(o.id.as_str());
    }
    let mut out = HashMap::with_capacity(rows.len());
    for row in q.fetch_all(&mut **tx).await? {
        out.insert(row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?);
    }
    Ok(out)
}

enum Bind {
    Text(String),
    Int(i64),
}

fn org_from_row(row: &sqlx::any::AnyRow) -> Result<IntelOrg> {
    Ok(IntelOrg {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        secret_sha256: row.try_get("secret_sha256")?,
    })
}

fn object_from_row(row: &sqlx::any::AnyRow) -> Result<IntelObject> {
    Ok(IntelObject {
        collection: row.try_get("collection")?,
        date_added_us: row.try_get("date_added")?,
        object: NewIntelObject {
            id: row.try_get("id")?,
            object_type: row.try_get("type")?,
            spec_version: row.try_get("spec_version")?,
            version: row.try_get("version")?,
            version_us: row.try_get("version_us")?,
            org: row.try_get("org")?,
            tlp: row.try_get("tlp")?,
            revoked: row.try_get::<i64, _>("revoked")? != 0,
            deprecated: row.try_get::<i64, _>("deprecated")? != 0,
            json: row.try_get("object")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::backends;

    fn obj(id: &str, version_us: i64, tlp: Option<&str>, org: Option<&str>) -> NewIntelObject {
        NewIntelObject {
            id: id.into(),
            object_type: id.split("--").next().unwrap_or("x").into(),
            spec_version: "2.1".into(),
            version: format!("v{version_us}"),
            version_us,
            org: org.map(str::to_string),
            tlp: tlp.map(str::to_string),
            revoked: false,
            deprecated: false,
            json: format!("{{\"id\":\"{id}\",\"v\":{version_us}}}"),
        }
    }

    fn query(collection: &str) -> IntelQuery {
        IntelQuery {
            collection: collection.into(),
            limit: 100,
            ..IntelQuery::default()
        }
    }

    #[tokio::test]
    async fn versions_filters_pages_and_tlp() {
        for t in backends().await {
            let s = &t.store;
            let objects = vec![
                obj("indicator--a", 1, None, Some("org1")),
                obj("indicator--a", 2, None, Some("org1")),
                obj("malware--b", 5, Some("red"), Some("org1")),
                obj("tool--c", 5, Some("green"), Some("org2")),
            ];
            let put = s
                .intel_put_objects("c1", &objects, VersionPolicy::KeepAll, 100)
                .await
                .unwrap();
            assert_eq!(put.added, 4, "{}", t.name);
            let again = s
                .intel_put_objects("c1", &objects, VersionPolicy::KeepAll, 200)
                .await
                .unwrap();
            assert_eq!((again.added, again.unchanged), (0, 4), "{}", t.name);

            let (all, more) = s.intel_query(&query("c1")).await.unwrap();
            assert!(!more);
            let ids: Vec<_> = all
                .iter()
                .map(|o| (o.object.id.as_str(), o.object.version_us))
                .collect();
            assert_eq!(ids, vec![("indicator--a", 2), ("tool--c", 5)], "{}", t.name);
            assert_eq!(all[0].date_added_us, 100);

            let mut q = query("c1");
            q.visibility.org = Some("org1".into());
            q.version = VersionMatch::All;
            let (all, _) = s.intel_query(&q).await.unwrap();
            assert_eq!(all.len(), 4, "{}", t.name);

            q.version = VersionMatch::First;
            q.types = vec!["indicator".into()];
            let (first, _) = s.intel_query(&q).await.unwrap();
            assert_eq!(first.len(), 1);
            assert_eq!(first[0].object.version_us, 1);

            let mut paged = query("c1");
            paged.visibility.restricted = true;
            paged.version = VersionMatch::All;
            paged.limit = 3;
            let (page1, more) = s.intel_query(&paged).await.unwrap();
            assert!(more);
            let last = page1.last().unwrap();
            paged.after = Some(Cursor {
                date_added_us: last.date_added_us,
                id: last.object.id.clone(),
                version_us: last.object.version_us,
            });
            let (page2, more) = s.intel_query(&paged).await.unwrap();
            assert!(!more);
            assert_eq!(page2.len(), 1);
            assert_eq!(page2[0].object.id, "tool--c");

            // A newer version written later becomes the latest; an older one written later does not.
            s.intel_put_objects(
                "c1",
                &[obj("indicator--a", 3, None, Some("org1"))],
                VersionPolicy::KeepAll,
                150,
            )
            .await
            .unwrap();
            s.intel_put_objects(
                "c1",
                &[obj("indicator--a", 0, None, Some("org1"))],
                VersionPolicy::KeepAll,
                160,
            )
            .await
            .unwrap();
            let mut latest = query("c1");
            latest.types = vec!["indicator".into()];
            let (last, _) = s.intel_query(&latest).await.unwrap();
            let versions: Vec<_> = last.iter().map(|o| o.object.version_us).collect();
            assert_eq!(versions, vec![3], "{}", t.name);
            latest.version = VersionMatch::First;
            let (first, _) = s.intel_query(&latest).await.unwrap();
            assert_eq!(first[0].object.version_us, 0, "{}", t.name);

            let mut after = query("c1");
            after.added_after_us = Some(160);
            assert!(s.intel_query(&after).await.unwrap().0.is_empty());
            assert_eq!(s.intel_count(Some("c1")).await.unwrap(), 6);
        }
    }

    #[tokio::test]
    async fn newest_only_replaces_in_place() {
        for t in backends().await {
            let s = &t.store;
            s.intel_put_objects(
                "attack",
                &[obj("attack-pattern--x", 1, None, None)],
                VersionPolicy::NewestOnly,
                1,
            )
            .await
            .unwrap();
            let put = s
                .intel_put_objects(
                    "attack",
                    &[
                        obj("attack-pattern--x", 3, None, None),
                        obj("attack-pattern--y", 1, None, None),
                    ],
                    VersionPolicy::NewestOnly,
                    2,
                )
                .await
                .unwrap();
            assert_eq!((put.added, put.replaced), (2, 1), "{}", t.name);
            let older = s
                .intel_put_objects(
                    "attack",
                    &[obj("attack-pattern--x", 2, None, None)],
                    VersionPolicy::NewestOnly,
                    3,
                )
                .await
                .unwrap();
            assert_eq!(older.stale, 1);
            let dup = s
                .intel_put_objects(
                    "attack",
                    &[
                        obj("attack-pattern--z", 1, None, None),
                        obj("attack-pattern--z", 4, None, None),
                        obj("attack-pattern--z", 2, None, None),
                    ],
                    VersionPolicy::NewestOnly,
                    4,
                )
                .await
                .unwrap();
            assert_eq!((dup.added, dup.stale), (1, 2), "{}", t.name);
            let latest = s
                .intel_latest_of_types("attack", &["attack-pattern"])
                .await
                .unwrap();
            assert_eq!(latest.len(), 3);
            assert!(latest.iter().any(|j| j.contains("\"v\":4")), "{latest:?}");
            assert_eq!(s.intel_count(Some("attack")).await.unwrap(), 3);
        }
    }

    #[tokio::test]
    async fn orgs_grants_collections_status() {
        for t in backends().await {
            let s = &t.store;
            s.intel_put_collection(&IntelCollection {
                id: "c1".into(),
                title: "One".into(),
                description: None,
            })
            .await
            .unwrap();
            assert_eq!(s.intel_collections().await.unwrap().len(), 1);
            s.intel_put_org(&IntelOrg {
                id: "org1".into(),
                name: "Org One".into(),
                secret_sha256: "ab".into(),
            })
            .await
            .unwrap();
            assert_eq!(s.intel_org("org1").await.unwrap().unwrap().name, "Org One");
            assert!(s.intel_org("nope").await.unwrap().is_none());
            let g = Grant {
                read: true,
                write: false,
                restricted: true,
            };
            s.intel_put_grant("org1", "c1", g).await.unwrap();
            assert_eq!(s.intel_grant("org1", "c1").await.unwrap(), g);
            assert_eq!(s.intel_grant("org1", "c2").await.unwrap(), Grant::default());
            assert_eq!(s.intel_grants().await.unwrap().len(), 1);
            s.intel_put_status("s1", Some("org1"), "{}").await.unwrap();
            assert_eq!(s.intel_status("s1").await.unwrap().1, "{}");
            assert!(matches!(
                s.intel_status("s2").await,
                Err(StoreError::NotFound(_))
            ));
        }
    }
}

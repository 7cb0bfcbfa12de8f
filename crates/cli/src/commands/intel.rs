//! `mamori intel`: the TTP intelligence hub — import ATT&CK, rank groups by technique profile, turn detections into
//! STIX, write Navigator layers, manage organisation accounts and collections, run the TAXII 2.1 server, and
//! push/pull to other hubs. See docs/intel.md.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mamori_intel::attack::{self, Knowledge};
use mamori_intel::client::{Credentials, RemoteCollection};
use mamori_intel::export::{self, Detection};
use mamori_intel::rank::{self, Ranker};
use mamori_intel::stix::{self, Tlp};
use mamori_intel::{layer, taxii};
use mamori_store::intel::{Grant, IntelCollection, IntelOrg, IntelQuery, VersionMatch, Visibility};
use mamori_store::{Store, StoreOptions};
use serde_json::Value;

use crate::exit;

#[derive(Args)]
pub struct IntelArgs {
    /// Database URL (`sqlite:PATH` or `postgres://…`); default: the embedded SQLite file in --data-dir.
    #[arg(long, env = "MAMORI_DATABASE", global = true)]
    pub database: Option<String>,
    /// Data directory of the embedded database.
    #[arg(
        long,
        env = "MAMORI_DATA_DIR",
        default_value = "mamori-data",
        global = true
    )]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: IntelCommand,
}

#[derive(Subcommand)]
pub enum IntelCommand {
    /// Import (or update in place) the MITRE ATT&CK Enterprise STIX 2.1 bundle (.json or .json.gz).
    ImportAttack(ImportArgs),
    /// Rank known intrusion sets by similarity to observed techniques and software, or evaluate the ranking.
    Rank(RankArgs),
    /// Turn recorded incidents (and verdict / flow-alert JSON files) into STIX, store them in a collection and
    /// print the bundle.
    Export(ExportArgs),
    /// Write an ATT&CK Navigator layer (format 4.5) of the techniques observed in incidents.
    Layer(LayerArgs),
    /// Organisation accounts of the TAXII server.
    Org(OrgArgs),
    /// TAXII collections.
    Collection(CollectionArgs),
    /// Run the TAXII 2.1 server alone (it is also part of `mamori serve`).
    Serve(ServeArgs),
    /// Send a local collection's objects to a TAXII 2.1 collection.
    Push(RemoteArgs),
    /// Fetch a TAXII 2.1 collection's objects into a local collection.
    Pull(RemoteArgs),
    /// Measure TAXII GET latency: fill a collection with synthetic indicators, serve it, fetch pages.
    Bench(BenchArgs),
}

#[derive(Args)]
pub struct BenchArgs {
    /// Objects in the benchmark collection (added once; the collection is reused when already full).
    #[arg(long, default_value_t = 100_000)]
    pub objects: usize,
    /// Objects per GET.
    #[arg(long, default_value_t = 1000)]
    pub page: usize,
    /// GET requests timed.
    #[arg(long, default_value_t = 20)]
    pub requests: usize,
}

#[derive(Args)]
pub struct ImportArgs {
    /// Bundle file.
    pub file: PathBuf,
}

#[derive(Args)]
pub struct RankArgs {
    /// Observed ATT&CK technique ids (T1566.001 …).
    pub techniques: Vec<String>,
    /// Observed software: ATT&CK id, name or alias (repeatable).
    #[arg(long = "software", value_name = "S")]
    pub software: Vec<String>,
    /// Candidates shown.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Evaluate instead: sample 30 % and 50 % of each group's techniques plus 20 % noise, report top-1/top-5.
    #[arg(long)]
    pub evaluate: bool,
    /// Groups evaluated need at least this many techniques.
    #[arg(long, default_value_t = 10)]
    pub min_techniques: usize,
    /// Samples per group.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Seed of the sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Incidents recorded in this period (e.g. 30d, 12h).
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Reporting organisation name (identity) for incidents without one.
    #[arg(long, default_value = "mamori")]
    pub org: String,
    /// TLP level of what is exported: clear, green, amber, amber+strict, red.
    #[arg(long, default_value = "amber")]
    pub tlp: String,
    /// Local collection the objects are stored in (created when missing).
    #[arg(long, default_value = "local")]
    pub collection: String,
    /// Verdict JSON lines (`mamori scan --json`) to export as well; only flagged verdicts are taken.
    #[arg(long, value_name = "FILE")]
    pub verdicts: Vec<PathBuf>,
    /// Flow report JSON (`mamori flows analyse --json`) whose alerts are exported as well.
    #[arg(long, value_name = "FILE")]
    pub flow_report: Vec<PathBuf>,
    /// Write the bundle here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not store, only print the bundle.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args)]
pub struct LayerArgs {
    /// Incidents in this period (e.g. 30d).
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Only incidents of this organisation.
    #[arg(long)]
    pub org: Option<String>,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    pub command: OrgCommand,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an account (or replace its secret) and print the secret once.
    Add(OrgAddArgs),
    /// List accounts and their rights.
    List,
}

#[derive(Args)]
pub struct OrgAddArgs {
    /// Account id (the Basic user name), e.g. `mod-jp`.
    pub id: String,
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// Collections it may read (repeatable).
    #[arg(long = "read", value_name = "COLLECTION")]
    pub read: Vec<String>,
    /// Collections it may write (repeatable).
    #[arg(long = "write", value_name = "COLLECTION")]
    pub write: Vec<String>,
    /// Collections whose TLP:RED and AMBER+STRICT objects of other organisations it may read (repeatable).
    #[arg(long = "restricted", value_name = "COLLECTION")]
    pub restricted: Vec<String>,
    /// Use this secret instead of a random one (tests, migrations).
    #[arg(long, env = "MAMORI_INTEL_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

#[derive(Args)]
pub struct CollectionArgs {
    #[command(subcommand)]
    pub command: CollectionCommand,
}

#[derive(Subcommand)]
pub enum CollectionCommand {
    /// Create or rename a collection.
    Add {
        /// Id (used in TAXII URLs).
        id: String,
        /// Title.
        #[arg(long)]
        title: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
    },
    /// List collections with their object counts.
    List,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:6100")]
    pub http: String,
    /// Path segment of the API root.
    #[arg(long, default_value = "api")]
    pub api_root: String,
    /// Largest accepted envelope in bytes.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_content_length: usize,
    /// Largest page of objects served.
    #[arg(long, default_value_t = 1000)]
    pub max_page_size: i64,
}

#[derive(Args)]
pub struct RemoteArgs {
    /// API root URL of the other server (e.g. http://hub.example:6100/api/).
    #[arg(long)]
    pub url: String,
    /// Remote collection id.
    #[arg(long)]
    pub collection: String,
    /// Local collection (push: read from; pull: write into).
    #[arg(long, default_value = "local")]
    pub local: String,
    /// HTTP Basic user.
    #[arg(long)]
    pub user: Option<String>,
    /// HTTP Basic password.
    #[arg(long, env = "MAMORI_TAXII_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Bearer token instead of Basic.
    #[arg(long, env = "MAMORI_TAXII_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Objects per envelope (push) or page (pull).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

pub fn run(args: IntelArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn open_store(args: &IntelArgs) -> anyhow::Result<Store> {
    match &args.database {
        Some(url) => Store::connect(url, &StoreOptions::default())
            .await
            .with_context(|| format!("opening {}", mamori_store::redact(url))),
        None => Store::open_embedded(&args.data_dir)
            .await
            .with_context(|| format!("opening the store in {}", args.data_dir.display())),
    }
}

fn since_us(text: &str) -> anyhow::Result<i64> {
    let span = humantime::parse_duration(text).with_context(|| format!("--since {text:?}"))?;
    Ok(stix::now_us().saturating_sub(i64::try_from(span.as_micros()).unwrap_or(i64::MAX)))
}

fn write_out(out: Option<&PathBuf>, value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    match out {
        Some(path) => {
            std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}")?;
            Ok(())
        }
    }
}

async fn ensure_collection(store: &Store, id: &str) -> anyhow::Result<()> {
    if !store.intel_collections().await?.iter().any(|c| c.id == id) {
        store
            .intel_put_collection(&IntelCollection {
                id: id.to_string(),
                title: id.to_string(),
                description: None,
            })
            .await?;
    }
    Ok(())
}

async fn run_async(args: IntelArgs) -> anyhow::Result<u8> {
    let store = open_store(&args).await?;
    match &args.command {
        IntelCommand::ImportAttack(a) => import_attack(&store, a).await,
        IntelCommand::Rank(a) => rank_cmd(&store, a).await,
        IntelCommand::Export(a) => export_cmd(&store, a).await,
        IntelCommand::Layer(a) => layer_cmd(&store, a).await,
        IntelCommand::Org(a) => org_cmd(&store, a).await,
        IntelCommand::Collection(a) => collection_cmd(&store, a).await,
        IntelCommand::Serve(a) => serve_cmd(store.clone(), a).await,
        IntelCommand::Push(a) => push_cmd(&store, a).await,
        IntelCommand::Pull(a) => pull_cmd(&store, a).await,
        IntelCommand::Bench(a) => bench_cmd(store.clone(), a).await,
    }
}

async fn import_attack(store: &Store, args: &ImportArgs) -> anyhow::Result<u8> {
    let start = Instant::now();
    let report = attack::import_file(store, &args.file)
        .await
        .with_context(|| format!("importing {}", args.file.display()))?;
    println!(
        "imported {} objects from {} in {:.2} s (read+parse {:.2} s, validate+store {:.2} s): {} added, {} replaced by newer, {} unchanged, {} older than stored, {} rejected",
        report.objects,
        args.file.display(),
        start.elapsed().as_secs_f64(),
        report.parse_time.as_secs_f64(),
        report.store_time.as_secs_f64(),
        report.added,
        report.replaced,
        report.unchanged,
        report.stale,
        report.rejected_count
    );
    println!(
        "knowledge: {} techniques and sub-techniques, {} groups, {} software (revoked/deprecated left out){}",
        report.techniques,
        report.groups,
        report.software,
        report
            .attack_version
            .as_deref()
            .map(|v| format!("; ATT&CK {v}"))
            .unwrap_or_default()
    );
    for (id, reason) in report.rejected.iter().take(10) {
        eprintln!("rejected {id}: {reason}");
    }
    Ok(exit::CLEAN)
}

async fn rank_cmd(store: &Store, args: &RankArgs) -> anyhow::Result<u8> {
    let load = Instant::now();
    let knowledge = Knowledge::load(store).await?;
    if knowledge.groups.is_empty() {
        bail!("no ATT&CK data in the store: run `mamori intel import-attack FILE` first");
    }
    let ranker = Ranker::new(&knowledge);
    let load_time = load.elapsed();
    if args.evaluate {
        println!(
            "groups with ≥ {} techniques, {} samples each, seed {}, noise 20 % of the sample:",
            args.min_techniques, args.repeats, args.seed
        );
        println!("sample  groups  trials  top-1   top-5   MRR");
        let mut results = Vec::new();
        for rate in [0.3, 0.5] {
            let e = rank::evaluate(
                &knowledge,
                &ranker,
                rate,
                0.2,
                args.min_techniques,
                args.repeats,
                args.seed,
            );
            println!(
                "{:>5.0} % {:>6}  {:>6}  {:>5.1} % {:>5.1} % {:.3}",
                rate * 100.0,
                e.groups,
                e.trials,
                e.top1 * 100.0,
                e.top5 * 100.0,
                e.mrr
            );
            results.push(e);
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&results)?);
        }
        return Ok(exit::CLEAN);
    }
    if args.techniques.is_empty() && args.software.is_empty() {
        bail!("give technique ids (T1566.001 …) and/or --software");
    }
    let mut software = Vec::new();
    for s in &args.software {
        match knowledge.find_software(s) {
            Some(found) => software.push(found.attack_id.clone()),
            None => eprintln!("mamori: warning: unknown software {s:?} ignored"),
        }
    }
    for t in &args.techniques {
        if !knowledge.techniques.contains_key(&t.to_ascii_uppercase()) {
            eprintln!(
                "mamori: warning: {t} is not an active ATT&CK technique in the imported data"
            );
        }
    }
    let query = Instant::now();
    let ranked = ranker.rank(&args.techniques, &software, args.top);
    let query_time = query.elapsed();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ranked)?);
        return Ok(exit::CLEAN);
    }
    println!(
        "similarity of ATT&CK group profiles to what was observed (TF-IDF cosine, 0–1; resemblance, not attribution):"
    );
    for (i, c) in ranked.iter().enumerate() {
        let aliases = if c.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.aliases.join(", "))
        };
        println!(
            "{:>2}. {} {}{}  similarity {:.3}",
            i + 1,
            c.group,
            c.name,
            aliases,
            c.similarity
        );
        println!(
            "    shared: {} of {} observed techniques [{}]{}; group has {} techniques",
            c.shared_techniques.len(),
            args.techniques.len(),
            c.shared_techniques.join(", "),
            if c.shared_software.is_empty() {
                String::new()
            } else {
                format!(", software [{}]", c.shared_software.join(", "))
            },
            c.group_techniques
        );
    }
    if ranked.is_empty() {
        println!("no group shares any of the observed techniques or software");
    }
    eprintln!(
        "(loaded {} groups in {:.0} ms; ranking took {:.2} ms)",
        ranker.len(),
        load_time.as_secs_f64() * 1000.0,
        query_time.as_secs_f64() * 1000.0
    );
    Ok(exit::CLEAN)
}

async fn export_cmd(store: &Store, args: &ExportArgs) -> anyhow::Result<u8> {
    let tlp = Tlp::parse(&args.tlp).with_context(|| format!("--tlp {:?}", args.tlp))?;
    let since = since_us(&args.since)?;
    let knowledge = Knowledge::load(store).await?;
    let mut detections = Vec::new();
    for incident in store.incidents_since(since / 1000, 1_000_000).await? {
        detections.push(Detection::from_incident(&incident, &args.org, tlp));
    }
    for path in &args.verdicts {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let verdict: mamori_detect::Verdict = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a verdict", path.display(), n + 1))?;
            if verdict.class != mamori_detect::Class::Clean {
                detections.push(Detection::from_verdict(
                    &verdict,
                    stix::now_us(),
                    &args.org,
                    tlp,
                ));
            }
        }
    }
    for path in &args.flow_report {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let report: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        for alert in report
            .get("alerts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let alert: mamori_flows::alert::FlowAlert = serde_json::from_value(alert.clone())
                .with_context(|| format!("{}: an alert does not parse", path.display()))?;
            detections.push(Detection::from_flow_alert(&alert, &args.org, tlp));
        }
    }
    let mut objects = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // One ranking index for every detection: each incident carries its attribution ranking.
    let ranker = mamori_intel::rank::Ranker::new(&knowledge);
    for detection in &detections {
        for object in export::to_stix_with(detection, &knowledge, Some(&ranker)) {
            if let Some(id) = object.get("id").and_then(Value::as_str)
                && seen.insert(id.to_string())
            {
                objects.push(object);
            }
        }
    }
    if !args.dry_run {
        ensure_collection(store, &args.collection).await?;
        let summary = export::record(store, &args.collection, &objects, None).await?;
        eprintln!(
            "{} detections → {} STIX objects; collection {}: {} added, {} already present",
            detections.len(),
            objects.len(),
            args.collection,
            summary.added,
            summary.unchanged
        );
    }
    write_out(args.out.as_ref(), &stix::bundle(objects))?;
    Ok(exit::CLEAN)
}

async fn layer_cmd(store: &Store, args: &LayerArgs) -> anyhow::Result<u8> {
    let observed = layer::observed(store, since_us(&args.since)?, args.org.as_deref()).await?;
    let name = match &args.org {
        Some(o) => format!("mamori: techniques observed ({}, {})", o, args.since),
        None => format!("mamori: techniques observed ({})", args.since),
    };
    let description = format!(
        "{} incidents since {}; score = number of incidents",
        observed.incidents, args.since
    );
    write_out(
        args.out.as_ref(),
        &layer::layer(&observed, &name, &description, "18"),
    )?;
    Ok(exit::CLEAN)
}

async fn org_cmd(store: &Store, args: &OrgArgs) -> anyhow::Result<u8> {
    match &args.command {
        OrgCommand::Add(a) => {
            if a.id.is_empty() || a.id.contains(':') {
                bail!("an account id must be non-empty and contain no ':'");
            }
            let secret = a.secret.clone().unwrap_or_else(taxii::new_secret);
            store
                .intel_put_org(&IntelOrg {
                    id: a.id.clone(),
                    name: a.name.clone().unwrap_or_else(|| a.id.clone()),
                    secret_sha256: taxii::hash_secret(&secret),
                })
                .await?;
            let mut collections: Vec<&String> =
                a.read.iter().chain(&a.write).chain(&a.restricted).collect();
            collections.sort();
            collections.dedup();
            for c in collections {
                ensure_collection(store, c).await?;
                let grant = Grant {
                    read: a.read.contains(c) || a.restricted.contains(c),
                    write: a.write.contains(c),
                    restricted: a.restricted.contains(c),
                };
                store.intel_put_grant(&a.id, c, grant).await?;
            }
            println!(
                "account {} created; secret (shown once, keep it safe):",
                a.id
            );
            println!("{secret}");
            println!(
                "use HTTP Basic {}:<secret> or Authorization: Bearer {}:<secret>",
                a.id, a.id
            );
        }
        OrgCommand::List => {
            let grants = store.intel_grants().await?;
            for org in store.intel_orgs().await? {
                println!("{}\t{}", org.id, org.name);
                for (_, c, g) in grants.iter().filter(|(o, _, _)| *o == org.id) {
                    let mut rights = Vec::new();
                    if g.read {
                        rights.push("read");
                    }
                    if g.write {
                        rights.push("write");
                    }
                    if g.restricted {
                        rights.push("restricted");
                    }
                    println!("\t{c}: {}", rights.join(", "));
                }
            }
        }
    }
    Ok(exit::CLEAN)
}

async fn collection_cmd(store: &Store, args: &CollectionArgs) -> anyhow::Result<u8> {
    match &args.command {
        CollectionCommand::Add {
            id,
            title,
            description,
        } => {
            store
                .intel_put_collection(&IntelCollection {
                    id: id.clone(),
                    title: title.clone().unwrap_or_else(|| id.clone()),
                    description: description.clone(),
                })
                .await?;
            println!("collection {id} ready");
        }
        CollectionCommand::List => {
            for c in store.intel_collections().await? {
                let count = store.intel_count(Some(&c.id)).await?;
                println!("{}\t{}\t{} object versions", c.id, c.title, count);
            }
        }
    }
    Ok(exit::CLEAN)
}

async fn serve_cmd(store: Store, args: &ServeArgs) -> anyhow::Result<u8> {
    let config = taxii::TaxiiConfig {
        api_root: args.api_root.clone(),
        max_content_length: args.max_content_length,
        max_page_size: args.max_page_size,
        ..taxii::TaxiiConfig::default()
    };
    let app = taxii::router(taxii::TaxiiState::new(store, config));
    let listener = tokio::net::TcpListener::bind(&args.http)
        .await
        .with_context(|| format!("listening on {}", args.http))?;
    let local = listener.local_addr()?;
    // Tests and scripts read this line to learn the port when --http ends in :0.
    println!(
        "TAXII 2.1 server on http://{local}/taxii2/ (API root http://{local}/{}/)",
        args.api_root
    );
    std::io::stdout().flush()?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("TAXII server")?;
    Ok(exit::CLEAN)
}

fn remote(args: &RemoteArgs) -> anyhow::Result<RemoteCollection> {
    let credentials = match (&args.token, &args.user) {
        (Some(t), _) => Credentials::Bearer(t.clone()),
        (None, Some(u)) => Credentials::Basic(u.clone(), args.password.clone().unwrap_or_default()),
        (None, None) => Credentials::None,
    };
    Ok(RemoteCollection::new(
        &args.url,
        &args.collection,
        credentials,
        Duration::from_secs(args.timeout),
    ))
}

async fn push_cmd(store: &Store, args: &RemoteArgs) -> anyhow::Result<u8> {
    let mut objects = Vec::new();
    let mut query = IntelQuery {
        collection: args.local.clone(),
        version: VersionMatch::All,
        limit: 5000,
        visibility: Visibility {
            org: None,
            restricted: true,
        },
        ..IntelQuery::default()
    };
    loop {
        let (page, more) = store.intel_query(&query).await?;
        for o in &page {
            objects.push(serde_json::from_str::<Value>(&o.object.json)?);
        }
        match (more, page.last()) {
            (true, Some(last)) => {
                query.after = Some(mamori_store::intel::Cursor {
                    date_added_us: last.date_added_us,
                    id: last.object.id.clone(),
                    version_us: last.object.version_us,
                })
            }
            _ => break,
        }
    }
    let client = remote(args)?;
    let batch = args.batch;
    let count = objects.len();
    let report = tokio::task::spawn_blocking(move || client.push(&objects, batch)).await??;
    println!(
        "pushed {count} objects from {} in {} envelopes: {} accepted, {} rejected",
        args.local, report.envelopes, report.successes, report.failure_count
    );
    for f in &report.failures {
        eprintln!("rejected {f}");
    }
    Ok(if report.failure_count > 0 {
        exit::FLAGGED
    } else {
        exit::CLEAN
    })
}

async fn pull_cmd(store: &Store, args: &RemoteArgs) -> anyhow::Result<u8> {
    let client = remote(args)?;
    let batch = args.batch;
    let objects = tokio::task::spawn_blocking(move || client.pull(batch, true)).await??;
    ensure_collection(store, &args.local).await?;
    let outcomes = taxii::ingest(store, &args.local, &objects, None).await?;
    let failures: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            taxii::Outcome::Failure { id, message, .. } => Some(format!("{id}: {message}")),
            taxii::Outcome::Success { .. } => None,
        })
        .collect();
    println!(
        "pulled {} objects into {}: {} stored, {} rejected",
        objects.len(),
        args.local,
        outcomes.len() - failures.len(),
        failures.len()
    );
    for f in failures.iter().take(20) {
        eprintln!("rejected {f}");
    }
    Ok(if failures.is_empty() {
        exit::CLEAN
    } else {
        exit::FLAGGED
    })
}

async fn bench_cmd(store: Store, args: &BenchArgs) -> anyhow::Result<u8> {
    const COLLECTION: &str = "bench";
    ensure_collection(&store, COLLECTION).await?;
    let have = store.intel_count(Some(COLLECTION)).await? as usize;
    if have < args.objects {
        let fill = Instant::now();
        let mut batch = Vec::new();
        for n in have..args.objects {
            let object = serde_json::json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{}", uuid_for(n)),
                "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                "name": format!("benchmark indicator {n}"),
                "pattern": format!("[ipv4-addr:value = '10.{}.{}.{}']", (n >> 16) & 255, (n >> 8) & 255, n & 255),
                "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
                "object_marking_refs": [Tlp::Green.marking_id()],
            });
            batch.push(object);
            if batch.len() == 5000 || n + 1 == args.objects {
                taxii::ingest(&store, COLLECTION, &batch, Some("bench")).await?;
                batch.clear();
            }
        }
        // Fresh planner statistics, as autovacuum would gather them on a long-running server.
        store.intel_analyze().await?;
        eprintln!(
            "filled {} objects in {:.1} s",
            args.objects - have,
            fill.elapsed().as_secs_f64()
        );
    }
    let secret = taxii::new_secret();
    store
        .intel_put_org(&IntelOrg {
            id: "bench".into(),
            name: "bench".into(),
            secret_sha256: taxii::hash_secret(&secret),
        })
        .await?;
    store
        .intel_put_grant(
            "bench",
            COLLECTION,
            Grant {
                read: true,
                write: false,
                restricted: false,
            },
        )
        .await?;
    let config = taxii::TaxiiConfig {
        max_page_size: args.page as i64,
        ..taxii::TaxiiConfig::default()
    };
    let app = taxii::router(taxii::TaxiiState::new(store.clone(), config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let page = args.page.max(1);
    let requests = args.requests.max(1);
    let timings = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(f64, usize)>> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..requests {
            let mut request = agent
                .get(format!(
                    "http://{addr}/api/collections/{COLLECTION}/objects/"
                ))
                .header("Accept", taxii::TAXII_MEDIA_TYPE)
                .header("Authorization", format!("Bearer bench:{secret}"))
                .query("limit", page.to_string());
            if let Some(n) = &next {
                request = request.query("next", n);
            }
            let start = Instant::now();
            let mut response = request.call()?;
            let text = response
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_string()?;
            let elapsed = start.elapsed().as_secs_f64() * 1000.0;
            let body: Value = serde_json::from_str(&text)?;
            let count = body
                .get("objects")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            out.push((elapsed, count));
            next = body.get("next").and_then(Value::as_str).map(str::to_string);
        }
        Ok(out)
    })
    .await??;
    let mut ms: Vec<f64> = timings.iter().map(|t| t.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    println!(
        "{:?} store, {} objects in the collection: GET {} objects per page, {} pages in a row: first {:.1} ms, median {:.1} ms, max {:.1} ms ({} objects in the last page)",
        store.backend(),
        store.intel_count(Some(COLLECTION)).await?,
        page,
        timings.len(),
        timings[0].0,
        median,
        ms[ms.len() - 1],
        timings.last().map_or(0, |t| t.1)
    );
    Ok(exit::CLEAN)
}

fn uuid_for(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

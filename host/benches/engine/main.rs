//! The sandbox's cost against the physical limit and against the original stack, measured side by side
//! in one run (issue 6; method and latest figures in BENCHMARKS.md):
//!
//! * [`compare`]: each operation through the component (fresh instance per call) against the same
//!   driver calls made natively, on SQLite in memory, SQLite on disk (WAL) and PostgreSQL;
//! * [`instance`]: a fresh instance plus teardown alone;
//! * [`load`] and [`peer`]: throughput and latency at 1, 8 and 64 callers on PostgreSQL, ours against
//!   the Python/SQLAlchemy peer;
//! * [`depth`]: pages at depth in tables of 1,000,000 rows;
//! * [`policy`]: what a tenant's policy adds to an operation, and a Rust and a JavaScript hook alone;
//! * [`hosts`]: get pin and upsert pin through the Rust, Python and JavaScript hosts, and what
//!   instantiating costs in each;
//! * [`instructions`]: instructions per call under callgrind, component and native;
//! * [`memory`]: the resident set around the largest page a caller may ask for.
//!
//! Run: `cargo bench -p account-host --bench engine` (PostgreSQL from `BENCH_POSTGRES_URL` or
//! `TEST_POSTGRES_URL`). Arguments `compare`, `instance`, `instructions`, `memory`, `load`, `depth`,
//! `policy`, `hosts` run only those parts (and then leave BENCHMARKS.md alone); `profile` calls get pin
//! through the component in a loop, for a profiler (`PROFILE_OPERATION=list_members`: a page of members
//! instead; `PROFILE_BACKEND=postgres`: on PostgreSQL rather than SQLite in memory).

mod compare;
mod depth;
mod hosts;
mod instance;
mod instructions;
mod load;
mod memory;
mod peer;
mod policy;
mod report;
mod setup;

use std::sync::Arc;
use std::time::{Duration, Instant};

use report::{Report, Series};
use setup::{Backend, micros};

/// How long each load measurement runs.
const WINDOW: Duration = Duration::from_secs(3);
const CALLERS: [usize; 3] = [1, 8, 64];
/// The concurrency at which the peer ratio is judged.
const PEER_CALLERS: usize = 8;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; anything else names the parts to run.
    let parts: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    // A child of the `instructions` part, run under callgrind.
    if let [child, operation, side] = parts.as_slice()
        && child == "instructions-child"
    {
        instructions::child(operation, side).await;
        return;
    }
    let wants = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    let started = Instant::now();
    let bench_dir = peer::bench_dir();
    std::fs::create_dir_all(&bench_dir).expect("target/bench");

    let memory = Backend::open("SQLite in memory", "sqlite::memory:").await;
    let disk =
        Backend::open("SQLite on disk (WAL)", &format!("sqlite:{}", bench_dir.join("sqlite.db").display())).await;
    let pg_url = std::env::var("BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("TEST_POSTGRES_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    let pg = match &pg_url {
        Some(url) => Some(Arc::new(Backend::open("PostgreSQL", url).await)),
        None => None,
    };

    let mut report = Report::default();
    report.line(format!(
        "Run of {} on {}.",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(pg.as_deref()).await
    ));
    if pg.is_none() {
        report.line("");
        report.line("**PostgreSQL skipped**: set `BENCH_POSTGRES_URL` (or `TEST_POSTGRES_URL`) to measure it, the peer and the load.");
    }

    // The million-row tenants are seeded first, so every run measures the same databases.
    if wants("depth") {
        depth::fixture(&disk).await;
        if let Some(pg) = &pg {
            depth::fixture(pg).await;
        }
    }

    let mut pg_fixture = None;
    if wants("compare") {
        let mut rows = Vec::new();
        for b in [Some(&memory), Some(&disk), pg.as_deref()].into_iter().flatten() {
            let (fixture, mut r) = compare::compare(b).await;
            rows.append(&mut r);
            if b.is_postgres() {
                pg_fixture = Some(fixture);
            }
        }
        print_comparison(&mut report, &rows);
    }

    if wants("instructions") {
        report.line("");
        report.line(format!(
            "### Instructions per call (callgrind, SQLite in memory, {} calls on the calling thread; SQLite's own thread not counted)",
            200
        ));
        report.line("");
        match instructions::measure(&bench_dir) {
            Ok(rows) => {
                report.line("| operation | component | native | added |");
                report.line("|---|---:|---:|---:|");
                for r in rows {
                    let (c, n) = r.per_call;
                    report.line(format!("| {} | {c} | {n} | {:+} |", r.operation, c as i64 - n as i64));
                }
            }
            Err(e) => report.line(format!("(not measured: {e})")),
        }
    }

    // For profilers (`perf record … engine profile`): get pin (or a page of members) through the
    // component, in a loop.
    if parts.iter().any(|p| p == "profile") {
        match (&pg, std::env::var("PROFILE_BACKEND").as_deref()) {
            (Some(pg), Ok("postgres")) => compare::profile(pg).await,
            _ => compare::profile(&memory).await,
        }
        return;
    }

    if wants("instance") {
        let cost = instance::instantiate_and_teardown(&memory).await;
        report.line("");
        report.line("### Fresh store + sandboxed instance + teardown, per call (best of 5 × 4,000)");
        report.line("");
        report.line("| what | µs |");
        report.line("|---|---:|");
        for (interface, bare) in &cost.bare {
            report.line(format!("| store + instance + teardown, `{interface}`'s component | {:.1} |", micros(*bare)));
        }
        report.line(format!(
            "| … and looking up the call's function, type-checked (`accounts.list-users`), as a call does | {:.1} |",
            micros(cost.one_function)
        ));
        report.line(format!(
            "| … and loading all of `accounts` (19 functions, type-checked), as calls did before | {:.1} |",
            micros(cost.accounts)
        ));
        let (worst, bare) = cost.worst();
        report.target(
            "instantiate + teardown ≤ 10 µs (every interface's component)",
            format!("worst {:.1} µs (`{worst}`)", micros(bare)),
            bare <= Duration::from_micros(10),
        );
    }

    if wants("policy") {
        let costs = policy::costs("sqlite::memory:").await;
        policy::report(&mut report, "SQLite in memory", &costs);
    }

    if wants("hosts") {
        let figures = hosts::measure(&bench_dir).await;
        hosts::report(&mut report, &figures);
    }

    if wants("load") {
        match &pg {
            Some(pg) => {
                let tenant = match pg_fixture {
                    Some(f) => f.tenant,
                    None => compare::compare(pg).await.0.tenant,
                };
                measure_load(&mut report, pg, &tenant, pg_url.as_deref().unwrap()).await;
            }
            None => report.target(
                format!("throughput ≥ 10× the Python/SQLAlchemy peer at {PEER_CALLERS} callers"),
                "not measured (no PostgreSQL)",
                false,
            ),
        }
    }

    if wants("depth") {
        let mut rows = depth::depth(&disk).await;
        if let Some(pg) = &pg {
            rows.append(&mut depth::depth(pg).await);
        }
        print_depth(&mut report, &rows);
    }

    // Last: a page of 4 MiB leaves pool slots with large memories behind, which later parts would pay for.
    if wants("memory") {
        let page = memory::largest_page(&memory).await;
        report.line("");
        report.line(format!(
            "Largest legal page (limit 1,000; the page's 4 MiB bound on values): {} pins, {:.1} MiB of values; resident set {:.0} MiB before the call, peak {:.0} MiB during it (+{:.1} MiB).",
            page.pins,
            page.value_bytes as f64 / 1048576.0,
            page.rss_before_kib as f64 / 1024.0,
            page.peak_kib as f64 / 1024.0,
            (page.peak_kib as f64 - page.rss_before_kib as f64) / 1024.0,
        ));
    }

    report.summary();
    report.line("");
    report.line(format!("The whole run took {:.0} s.", started.elapsed().as_secs_f64()));
    if parts.is_empty() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("BENCHMARKS.md");
        match report.write_into(&file) {
            Ok(true) => println!("\n(BENCHMARKS.md updated with this run)"),
            Ok(false) => println!("\n(BENCHMARKS.md has no latest-run markers; not updated)"),
            Err(e) => println!("\n(could not update BENCHMARKS.md: {e})"),
        }
    }
}

fn print_comparison(report: &mut Report, rows: &[compare::Comparison]) {
    report.line("");
    report.line(format!(
        "### Component (fresh instance per call) against native driver calls, median of {} interleaved calls",
        compare::ITERATIONS
    ));
    report.line("");
    report.line(
        "| backend | operation | statements | round trips | floor | component µs | native µs | added µs | ratio | target ≤ 1.10 |",
    );
    report.line("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut worst = 0f64;
    for r in rows {
        let ratio = r.component.as_secs_f64() / r.native.as_secs_f64();
        let judged = r.backend != "SQLite in memory";
        if judged {
            worst = worst.max(ratio);
        }
        let verdict = if judged { Report::verdict(ratio <= 1.10) } else { "(not a target)" };
        // The same driver statements on both sides, or the row says so.
        let same = |(c, n): (u64, u64)| if c == n { c.to_string() } else { format!("{c} vs {n} (differ)") };
        report.line(format!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.0} | {:+.0} | {ratio:.2} | {verdict} |",
            r.backend,
            r.operation,
            same(r.statements),
            same(r.round_trips),
            compare::floor(r.operation, r.backend),
            micros(r.component),
            micros(r.native),
            micros(r.component) - micros(r.native),
        ));
    }
    // The sandbox's fixed cost: what the component adds on the steadiest backend.
    let mut added: Vec<f64> = rows
        .iter()
        .filter(|r| r.backend == "SQLite in memory")
        .map(|r| micros(r.component) - micros(r.native))
        .collect();
    if !added.is_empty() {
        added.sort_by(f64::total_cmp);
        report.line("");
        report.line(format!(
            "The component's fixed cost (component − native, SQLite in memory): {:.0} to {:.0} µs per call, median {:.0} µs.",
            added[0],
            added[added.len() - 1],
            added[added.len() / 2]
        ));
    }
    report.target(
        "component / native ≤ 1.10 per operation (PostgreSQL, SQLite on disk)",
        format!("worst {worst:.2}"),
        worst <= 1.10,
    );
}

/// A load row's operation, and the tenants it acted on when not one.
fn label(load: &load::Load) -> String {
    let operation = load.operation.replace('_', " ");
    if load.tenants == 1 { operation } else { format!("{operation}, a tenant per caller") }
}

async fn measure_load(report: &mut Report, pg: &Arc<Backend>, tenant: &str, url: &str) {
    let mut ours = Vec::new();
    let one = [tenant.to_string()];
    for callers in CALLERS {
        ours.push(load::run(pg.clone(), &one, "get_pin", callers, WINDOW).await);
    }
    for operation in &load::OPERATIONS[1..] {
        ours.push(load::run(pg.clone(), &one, operation, PEER_CALLERS, WINDOW).await);
    }
    // What a tenant's writer turn costs: the same upserts, each caller on a tenant of its own (the peer's
    // runs act on one tenant; this row is ours alone and judges nothing).
    let mut own = one.to_vec();
    while own.len() < PEER_CALLERS {
        own.push(pg.tenant("load").await);
    }
    ours.push(load::run(pg.clone(), &own, "upsert_pin", PEER_CALLERS, WINDOW).await);
    let peer = match peer::Peer::start(url, tenant, compare::PINS) {
        Ok(mut peer) => {
            let mut loads = Vec::new();
            let plan =
                CALLERS.iter().map(|&c| ("get_pin", c)).chain(load::OPERATIONS[1..].iter().map(|&o| (o, PEER_CALLERS)));
            for (operation, callers) in plan {
                match peer.run(operation, callers, WINDOW) {
                    Ok(l) => loads.push(l),
                    Err(e) => {
                        report.line(format!("(the peer failed: {e:#})"));
                        break;
                    }
                }
            }
            loads
        }
        Err(e) => {
            report.line(format!("(the Python peer could not run: {e:#})"));
            Vec::new()
        }
    };
    report.line("");
    report.line("### Throughput and latency on PostgreSQL: ours (component, fresh instance per call) against the Python/SQLAlchemy peer");
    report.line("");
    report.line("| operation | callers | ours calls/s | ours median ms | ours p95 ms | ours CPU µs/call | ours peak RSS MiB | peer calls/s | peer median ms | peer p95 ms | peer CPU µs/call | throughput ratio | CPU ratio (peer ÷ ours) | p95 ratio (ours ÷ peer) |");
    report.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    // Worst over the judged rows: throughput and CPU at PEER_CALLERS, p95 at the most callers.
    let (mut worst, mut worst_cpu, mut worst_p95) = (f64::MAX, f64::MAX, 0f64);
    let most = *CALLERS.last().expect("callers");
    for o in &ours {
        let p = peer.iter().find(|p| p.operation == o.operation && p.callers == o.callers && p.tenants == o.tenants);
        let ratio = p.map(|p| o.calls_per_second / p.calls_per_second);
        let cpu_ratio = p.and_then(|p| Some(p.cpu_per_call?.as_secs_f64() / o.cpu_per_call?.as_secs_f64()));
        let p95_ratio = p.map(|p| o.p95.as_secs_f64() / p.p95.as_secs_f64());
        if o.callers == PEER_CALLERS && o.tenants == 1 {
            worst = worst.min(ratio.unwrap_or(0.0));
            worst_cpu = worst_cpu.min(cpu_ratio.unwrap_or(0.0));
        }
        if o.callers == most && o.tenants == 1 {
            worst_p95 = worst_p95.max(p95_ratio.unwrap_or(f64::MAX));
        }
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let us = |d: Option<Duration>| d.map_or("—".into(), |d| format!("{:.0}", micros(d)));
        let peer_cells = p.map_or("— | — | — | —".into(), |p| {
            format!("{:.0} | {:.2} | {:.2} | {}", p.calls_per_second, ms(p.median), ms(p.p95), us(p.cpu_per_call))
        });
        let times = |r: Option<f64>| r.map_or("—".into(), |r| format!("{r:.1}×"));
        report.line(format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {peer_cells} | {} | {} | {} |",
            label(o),
            o.callers,
            o.calls_per_second,
            ms(o.median),
            ms(o.p95),
            us(o.cpu_per_call),
            o.peak_rss_kib.map_or("—".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            times(ratio),
            times(cpu_ratio),
            p95_ratio.map_or("—".into(), |r| format!("{r:.2}")),
        ));
    }
    report.line("");
    report.line("Where our processor time per call goes, in the same windows: the kernel's share, and the process's");
    report.line("waits (voluntary context switches, all threads): each exchange with the database the caller waits");
    report.line("for is one, as is each wait for a writer turn, a connection or a wake-up of the runtime.");
    report.line("");
    report.line("| operation | callers | CPU µs/call | of which kernel µs/call | waits per call |");
    report.line("|---|---:|---:|---:|---:|");
    for o in &ours {
        let (Some(cpu), Some(system), Some(waits)) = (o.cpu_per_call, o.system_per_call, o.waits_per_call) else {
            continue;
        };
        report.line(format!(
            "| {} | {} | {:.0} | {:.0} | {waits:.1} |",
            label(o),
            o.callers,
            micros(cpu),
            micros(system),
        ));
    }
    let measured = |s: String| if peer.is_empty() { "peer not measured".to_string() } else { s };
    report.target(
        format!("throughput ≥ 10× the Python/SQLAlchemy peer at {PEER_CALLERS} callers, every operation"),
        measured(format!("worst {worst:.1}×")),
        worst >= 10.0 && !peer.is_empty(),
    );
    report.target(
        format!("CPU per call ≥ 20× less than the peer's at {PEER_CALLERS} callers, every operation"),
        measured(format!("worst {worst_cpu:.1}×")),
        worst_cpu >= 20.0 && !peer.is_empty(),
    );
    report.target(
        format!("p95 at {most} callers ≤ 1/5 of the peer's"),
        measured(format!("{worst_p95:.2} of the peer's")),
        worst_p95 <= 0.2 && !peer.is_empty(),
    );

    let get = |loads: &[load::Load]| loads.iter().filter(|l| l.operation == "get_pin").cloned().collect::<Vec<_>>();
    let (ours_get, peer_get) = (get(&ours), get(&peer));
    let chart = report::latency_chart(
        "get pin on PostgreSQL: latency against concurrency",
        &[
            Series::median("ours, median", "#1f6feb", &ours_get),
            Series::p95("ours, p95", "#1f6feb", &ours_get),
            Series::median("Python peer, median", "#d1242f", &peer_get),
            Series::p95("Python peer, p95", "#d1242f", &peer_get),
        ],
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("docs").join("benchmarks");
    let written =
        std::fs::create_dir_all(&path).and_then(|_| std::fs::write(path.join("latency-vs-concurrency.svg"), chart));
    report.line("");
    match written {
        Ok(()) => report.line("![get pin latency against concurrency](docs/benchmarks/latency-vs-concurrency.svg)"),
        Err(e) => report.line(format!("(could not write the chart: {e})")),
    }
}

fn print_depth(report: &mut Report, rows: &[depth::DepthRow]) {
    report.line("");
    report.line(format!(
        "### Pages of 50 at depth, one tenant with {} members and {} pins (median of 7)",
        depth::ROWS,
        depth::ROWS
    ));
    report.line("");
    report.line("| backend | list | rows before the page | engine operation ms (cursor) | page query ms (cursor) | original's page query ms (OFFSET) |");
    report.line("|---|---|---:|---:|---:|---:|");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut flat = true;
    let mut worst = 0f64;
    let slowest = rows.iter().map(|r| r.engine).max().unwrap_or_default();
    for r in rows {
        report.line(format!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            r.backend,
            r.list,
            r.position,
            ms(r.engine),
            ms(r.cursor_query),
            ms(r.offset_query)
        ));
        let first =
            rows.iter().find(|f| f.backend == r.backend && f.list == r.list && f.position == 0).expect("a first page");
        let growth = r.cursor_query.as_secs_f64() / first.cursor_query.as_secs_f64();
        worst = worst.max(growth);
        // Flat: the deepest page's query within twice the first's (noise on a shared machine).
        flat &= growth <= 2.0;
    }
    report.target(
        "page latency flat at depth (1,000,000 rows; cursor page query, deepest ÷ first ≤ 2)",
        format!("worst {worst:.2}×"),
        flat,
    );
    report.target(
        "every list operation through the engine ≤ 2 ms per page on the million-row tenant, at every depth",
        format!("slowest {:.2} ms", ms(slowest)),
        !rows.is_empty() && slowest <= Duration::from_millis(2),
    );
}

/// What the figures were measured on.
async fn machine(pg: Option<&Backend>) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or("?".into(), |kb| format!("{} GiB", kb / 1024 / 1024));
    let pg = match pg {
        Some(b) => account_host::on_pool!(&b.db, |p| sqlx::query_scalar::<_, String>("SHOW server_version")
            .fetch_one(p))
        .map_or_else(|_| String::new(), |v| format!(", PostgreSQL {v} on loopback")),
        None => String::new(),
    };
    format!("{cores} × {cpu}, {memory}, Linux {}{pg}", kernel.trim())
}

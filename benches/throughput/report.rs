//! The benchmark's report: what `main.rs` measured, as Markdown ready to paste. Nothing
//! here measures; it only reads the runs, the plans and the extra figures.

use super::*;
use std::fmt::Write as _;

/// Everything one run of the benchmark measured.
pub(super) struct Report<'a> {
    pub(super) seconds: f64,
    pub(super) host: &'a Host,
    pub(super) rows: &'a [Row],
    pub(super) plans: &'a [RoutePlan],
    pub(super) write_checks: &'a [WriteCheck],
    pub(super) instantiation: Timing,
    pub(super) native_argon2: (Timing, String),
    pub(super) load_before: &'a str,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl Report<'_> {
    fn row(&self, route: Route, clients: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.route == route && r.clients == clients)
    }

    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        // `write!` to a String cannot fail.
        let o = &mut out;
        let _ = writeln!(o, "## pokefavs throughput: component vs native floor\n");
        let _ = writeln!(
            o,
            "{:.1} s per route per client count; component `{}` on the test host \
             (fresh instance per request); floor = the same SQL through rusqlite, a new \
             connection per request, no wasm, no HTTP.\n",
            self.seconds,
            self.host.wasm_path().display()
        );
        let _ = writeln!(
            o,
            "| route | clients | req/s | p50 ms | p99 ms | errors | host calls/req | floor req/s | floor p50 ms | floor p99 ms | ratio |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for row in self.rows {
            let c = &row.component;
            let (floor_rps, floor_p50, floor_p99, ratio) = match (&row.floor, row.ratio()) {
                (Some(f), Some(r)) => (
                    format!("{:.0}", f.per_second()),
                    format!("{:.3}", f.percentile_ms(0.5)),
                    format!("{:.3}", f.percentile_ms(0.99)),
                    format!("{r:.2}"),
                ),
                _ => ("—".into(), "—".into(), "—".into(), "—".into()),
            };
            let calls = self
                .plans
                .iter()
                .find(|p| p.route == row.route)
                .map(|p| format!("{:.1}", p.spin_calls_per_request()))
                .unwrap_or_else(|| "—".into());
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.3} | {:.3} | {} | {calls} | {floor_rps} | {floor_p50} | {floor_p99} | {ratio} |",
                row.route.label(),
                row.clients,
                rate(c.per_second()),
                c.percentile_ms(0.5),
                c.percentile_ms(0.99),
                c.samples.errors,
            );
        }
        let _ = writeln!(
            o,
            "\nreq/s counts HTTP requests (the write cycle is 2 per iteration: POST 201 + \
             DELETE 204); latency is per request; host calls = calls into the Spin \
             interfaces (`spin:sqlite` open / execute, variables), each of which Spin (and \
             this host) serves on tokio's blocking pool; the floor's errors are below if any."
        );
        for row in self.rows {
            if let Some(e) = &row.component.samples.first_error {
                let _ = writeln!(
                    o,
                    "- first error, {} x{}: {e}",
                    row.route.label(),
                    row.clients
                );
            }
            if let Some(f) = &row.floor {
                if f.samples.errors > 0 {
                    let _ = writeln!(
                        o,
                        "- floor errors, {} x{}: {} (first: {})",
                        row.route.label(),
                        row.clients,
                        f.samples.errors,
                        f.samples.first_error.as_deref().unwrap_or("")
                    );
                }
            }
        }

        self.render_keyed(o);
        self.render_cpu(o);
        self.render_lock(o);
        self.render_targets(o);
        self.render_writes(o);
        self.render_extras(o);
        self.render_statements(o);
        out
    }

    /// The keyed writes and the replays beside the unkeyed writes of the same run, per
    /// HTTP request: what an `Idempotency-Key` costs, measured in one sitting.
    fn render_keyed(&self, o: &mut String) {
        let pairs: Vec<(&Row, &Row)> = [Route::KeyedCycle, Route::Replay]
            .into_iter()
            .flat_map(|route| CLIENT_COUNTS.map(|clients| (route, clients)))
            .filter_map(|(route, clients)| {
                Some((self.row(route, clients)?, self.row(Route::Cycle, clients)?))
            })
            .collect();
        if pairs.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "\n### Idempotency-Key: keyed writes and replays against unkeyed writes (this run)\n\n\
             | workload | clients | req/s | unkeyed req/s | req/s ratio | p50 ms (unkeyed) | p99 ms (unkeyed) | CPU µs/req (unkeyed) | CPU ratio |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for (row, unkeyed) in pairs {
            let (c, u) = (&row.component, &unkeyed.component);
            let cpu = |p: &Phase| p.cpu_per_request().map(|(us, _)| us);
            let (cpu_cell, cpu_ratio) = match (cpu(c), cpu(u)) {
                (Some(k), Some(u)) => (format!("{k:.0} ({u:.0})"), format!("{:.2}", k / u)),
                _ => ("—".into(), "—".into()),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {:.2} | {:.3} ({:.3}) | {:.3} ({:.3}) | {cpu_cell} | {cpu_ratio} |",
                row.route.label(),
                row.clients,
                rate(c.per_second()),
                rate(u.per_second()),
                c.per_second() / u.per_second(),
                c.percentile_ms(0.5),
                u.percentile_ms(0.5),
                c.percentile_ms(0.99),
                u.percentile_ms(0.99),
            );
        }
        let _ = writeln!(
            o,
            "\nPer HTTP request: the unkeyed and keyed cycles are POST 201 + DELETE 204 each, \
             a replay is one POST answered 201 from the stored answer (`Idempotent-Replayed: \
             true`), nothing changed. req/s ratio = keyed (or replay) / unkeyed, so below 1 \
             is slower; CPU ratio = CPU per request keyed (or replay) / unkeyed, above 1 is \
             costlier."
        );
    }

    /// How long the component's writing requests held the write lock: the time every
    /// other writer waits behind each of them.
    fn render_lock(&self, o: &mut String) {
        let rows: Vec<&Row> = self
            .rows
            .iter()
            .filter(|row| !row.component.samples.lock_held.is_empty())
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "\n### Write lock held per writing request (component, measured by the host)\n\n\
             | route | clients | writing requests | p50 ms | p99 ms | max ms |\n\
             |---|---:|---:|---:|---:|---:|"
        );
        for row in rows {
            let held = &row.component.samples.lock_held;
            let at = |q: f64| {
                let rank = ((q * held.len() as f64).ceil() as usize).clamp(1, held.len());
                held[rank - 1].as_secs_f64() * 1e3
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} |",
                row.route.label(),
                row.clients,
                held.len(),
                at(0.5),
                at(0.99),
                at(1.0)
            );
        }
        let _ = writeln!(
            o,
            "\nFrom `BEGIN IMMEDIATE` coming back to `COMMIT` coming back (every host call in \
             between included), or for a single statement its time in SQLite less its time \
             asleep in the busy handler."
        );
    }

    fn render_cpu(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n### CPU per request (the whole process, user + system)\n\n\
             | route | clients | component µs/req | kernel share | floor µs/req | kernel share | CPU ratio |\n\
             |---|---:|---:|---:|---:|---:|---:|"
        );
        let cell = |p: Option<&Phase>| match p.and_then(Phase::cpu_per_request) {
            Some((us, sys)) => (format!("{us:.0}"), format!("{:.0} %", sys * 100.0)),
            None => ("—".into(), "—".into()),
        };
        for row in self.rows {
            let (c_us, c_sys) = cell(Some(&row.component));
            let (f_us, f_sys) = cell(row.floor.as_ref());
            let ratio = match (
                row.component.cpu_per_request(),
                row.floor.as_ref().and_then(Phase::cpu_per_request),
            ) {
                (Some((c, _)), Some((f, _))) => format!("{:.1}×", c / f),
                _ => "—".into(),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {c_us} | {c_sys} | {f_us} | {f_sys} | {ratio} |",
                row.route.label(),
                row.clients
            );
        }
        let _ = writeln!(
            o,
            "\nCPU ratio = component CPU per request / floor CPU per request: what a request \
             costs the machine, whatever else is running on it."
        );
    }

    fn render_targets(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n### Targets (32 clients)\n\n\
             | check | value | target | met | from CPU per request |\n|---|---|---|---|---|"
        );
        for route in Route::ALL {
            let Some(row) = self.row(route, 32) else {
                continue;
            };
            let Some(ratio) = row.ratio() else { continue };
            let (target, met) = if route.is_read() {
                ("≥ 0.33", if ratio >= 1.0 / 3.0 { "yes" } else { "NO" })
            } else {
                ("(recorded)", "—")
            };
            let by_cpu = match (
                row.component.cpu_per_request(),
                row.floor.as_ref().and_then(Phase::cpu_per_request),
            ) {
                (Some((c, _)), Some((f, _))) => format!("{:.2}", f / c),
                _ => "—".into(),
            };
            let _ = writeln!(
                o,
                "| {} component/floor | {ratio:.2} | {target} | {met} | {by_cpu} |",
                route.label()
            );
        }
        if let Some(row) = self.row(Route::Cycle, 32) {
            let p99 = row.component.percentile_ms(0.99);
            let errors = row.component.samples.errors;
            let _ = writeln!(
                o,
                "| {} p99 latency / errors | {p99:.1} ms / {errors} | < 100 ms / 0 | {} | — |",
                Route::Cycle.label(),
                if p99 < 100.0 && errors == 0 {
                    "yes"
                } else {
                    "NO"
                }
            );
        }
        let _ = writeln!(
            o,
            "\nThe last column is floor CPU per request / component CPU per request: the \
             throughput ratio the two would have on a machine of their own, less sensitive \
             to whatever else is running."
        );
    }

    fn render_writes(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n### Writes: lost-write check (each run with its warm-up)\n\n\
             | workload | run | clients | inserts acknowledged | inserts committed | lost | rows left over | keyed answers acknowledged / stored | errors | ok |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---|"
        );
        for c in self.write_checks {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {} |",
                c.route.key(),
                c.who,
                c.clients,
                c.acknowledged,
                c.committed,
                c.lost(),
                c.leftover,
                c.keys_acknowledged,
                c.keys_stored,
                c.errors,
                if c.ok() { "yes" } else { "NO" }
            );
        }
        let _ = writeln!(
            o,
            "\ncommitted = growth of the favorites AUTOINCREMENT sequence; lost = \
             acknowledged − committed; every cycle deletes what it added, so no row may be \
             left over. Keyed answers: requests of the keyed cycle answered as decided (not \
             replayed) against the growth of `idempotency_keys`; a replay must add neither \
             a favorite nor a key."
        );
    }

    fn render_extras(&self, o: &mut String) {
        let wasm_bytes = std::fs::metadata(self.host.wasm_path())
            .map(|m| m.len())
            .unwrap_or(0);
        let (native, params) = &self.native_argon2;
        let login = self.row(Route::Login, 1).map(|r| &r.component);
        let health = self.row(Route::Health, 1).map(|r| &r.component);
        let _ = writeln!(o, "\n### Other figures\n");
        let _ = writeln!(
            o,
            "- instantiation (instantiate + drop an idle instance): mean {:.1} µs, median \
             {:.1} µs over {} runs, one thread",
            self.instantiation.mean.as_secs_f64() * 1e6,
            self.instantiation.median.as_secs_f64() * 1e6,
            self.instantiation.runs
        );
        let _ = writeln!(
            o,
            "- `.wasm` size: {wasm_bytes} bytes ({:.1} KiB); compiling it took {:.2} s",
            wasm_bytes as f64 / 1024.0,
            self.host.compile_time().as_secs_f64()
        );
        let _ = writeln!(
            o,
            "- peak linear memory per instance: measured by the host (a `ResourceLimiter` \
             on each store counts every growth), per route in the list of what each request \
             runs below. Resident memory of the whole process, for comparison: its rise \
             during each run at 32 clients divided by 32 (in-flight instances plus \
             per-thread allocator arenas and SQLite caches; the floor's column shows what \
             is not wasm). The bench process's peak RSS was {}.",
            peak_rss_kib()
                .map(|k| format!("{:.0} MiB", k as f64 / 1024.0))
                .unwrap_or_else(|| "unknown".into())
        );
        let _ = writeln!(
            o,
            "\n  | route (32 clients) | component RSS rise / client | floor RSS rise / client |\n  \
             |---|---:|---:|"
        );
        let per_client = |p: Option<&Phase>, clients: usize| {
            p.and_then(|p| p.rss_rise_kib)
                .map(|k| format!("{:.1} MiB", k as f64 / 1024.0 / clients as f64))
                .unwrap_or_else(|| "—".into())
        };
        for row in self.rows.iter().filter(|r| r.clients == 32) {
            let _ = writeln!(
                o,
                "  | {} | {} | {} |",
                row.route.label(),
                per_client(Some(&row.component), row.clients),
                per_client(row.floor.as_ref(), row.clients)
            );
        }
        let _ = writeln!(o);
        if let (Some(login), Some(health)) = (login, health) {
            let login_p50 = login.percentile_ms(0.5);
            let argon2_in_component = login_p50 - health.percentile_ms(0.5);
            let native_ms = ms(native.median);
            let _ = writeln!(
                o,
                "- Argon2id verify ({params}): component ≈ {argon2_in_component:.1} ms \
                 (login p50 {login_p50:.1} ms at 1 client minus GET /health p50), native \
                 {native_ms:.1} ms (median of {}, mean {:.1} ms): wasm is {:.2}× native",
                native.runs,
                ms(native.mean),
                argon2_in_component / native_ms
            );
        }
        let _ = writeln!(
            o,
            "- machine: {} cores, `{}`; load average before the run: {}",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            cpu_model(),
            self.load_before
        );
    }

    fn render_statements(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n### What each request runs (from `HostResponse.stats`; rows as the floor saw them)\n"
        );
        for plan in self.plans {
            let _ = writeln!(o, "- {}", plan.route.label());
            let mut floor_rows = plan.floor_rows.iter();
            for c in &plan.captured {
                let rows = if c.statements.is_empty() {
                    None
                } else {
                    floor_rows.next()
                };
                let _ = writeln!(
                    o,
                    "  - {}: {} open(s), {} variable get(s), {} statement(s), {} host call(s), peak linear memory {} KiB ({} memory.grow)",
                    c.method,
                    c.opens,
                    c.variable_gets,
                    c.statements.len(),
                    c.spin_calls,
                    c.peak_memory_bytes >> 10,
                    c.memory_grows
                );
                for (i, sql) in c.statements.iter().enumerate() {
                    let n = rows
                        .and_then(|r| r.get(i))
                        .map(|n| format!("{n} row(s)"))
                        .unwrap_or_default();
                    let _ = writeln!(o, "    {}. `{}` {n}", i + 1, short_sql(sql));
                }
            }
        }
    }
}

/// Requests/s with as many decimals as a small number needs.
fn rate(per_second: f64) -> String {
    if per_second < 100.0 {
        format!("{per_second:.1}")
    } else {
        format!("{per_second:.0}")
    }
}

/// A statement on one line, cut short.
fn short_sql(sql: &str) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = one_line.chars();
    let cut: String = chars.by_ref().take(90).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

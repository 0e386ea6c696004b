//! Audit pipeline throughput: reads JSON-lines audit logs and runs the chosen detectors over
//! every event, on the calling thread, then prints events per second, alerts and peak memory.
//!
//! ```text
//! cargo run --release -p palisade-audit --example throughput -- [--falco] [--sigma] [--pack]
//!     [--baselines] [--all] [--repeat N] [--json] FILE...
//! ```
//!
//! With no detector flag only reading and parsing are measured. `--falco` loads the upstream
//! `k8s_audit_rules.yaml` and `--sigma` the upstream Sigma rules, both from the crate's test
//! data. `--repeat N` reads the files N times (one measurement over all of them), so a short
//! file can make a long run. `--json` prints one JSON object instead of text, for scripts.

use palisade_audit::baseline::{BaselineConfig, Baselines};
use palisade_audit::event::read::{ReadOptions, read_paths};
use palisade_audit::falco::FalcoRules;
use palisade_audit::pack::{Pack, PackConfig};
use palisade_audit::sigma::SigmaRules;
use palisade_audit::{Alert, Detector};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: throughput [--falco] [--sigma] [--pack] [--baselines] [--all] [--repeat N] [--json] FILE...";

struct Args {
    falco: bool,
    sigma: bool,
    pack: bool,
    baselines: bool,
    repeat: u32,
    json: bool,
    files: Vec<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        falco: false,
        sigma: false,
        pack: false,
        baselines: false,
        repeat: 1,
        json: false,
        files: Vec::new(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        match arg.as_str() {
            "--falco" => args.falco = true,
            "--sigma" => args.sigma = true,
            "--pack" => args.pack = true,
            "--baselines" => args.baselines = true,
            "--all" => {
                (args.falco, args.sigma, args.pack, args.baselines) = (true, true, true, true)
            }
            "--json" => args.json = true,
            "--repeat" => {
                let n = given.next().ok_or("--repeat needs a number")?;
                args.repeat = n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--repeat {n}: expected a positive number"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}\n{USAGE}")),
            file => args.files.push(PathBuf::from(file)),
        }
    }
    if args.files.is_empty() {
        return Err(USAGE.to_string());
    }
    Ok(args)
}

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// A detector with its name, as printed.
type Named = (&'static str, Box<dyn Detector>);

fn detectors(args: &Args) -> Result<Vec<Named>, String> {
    let mut detectors: Vec<Named> = Vec::new();
    if args.falco {
        let (rules, _warnings) =
            FalcoRules::load(&[data("falco/k8s_audit_rules.yaml")]).map_err(|errors| {
                format!(
                    "Falco rules: {} errors, first {:?}",
                    errors.len(),
                    errors.first()
                )
            })?;
        detectors.push(("falco", Box::new(rules)));
    }
    if args.sigma {
        let (rules, _diagnostics) = SigmaRules::load(&[data("sigma/rules")]);
        if rules.rule_count() == 0 {
            return Err("no Sigma rules loaded".to_string());
        }
        detectors.push(("sigma", Box::new(rules)));
    }
    if args.pack {
        detectors.push(("pack", Box::new(Pack::new(PackConfig::default()))));
    }
    if args.baselines {
        detectors.push((
            "baselines",
            Box::new(Baselines::new(BaselineConfig::default())),
        ));
    }
    Ok(detectors)
}

/// The process's peak resident set (`VmHWM`), in KiB, where the system reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut detectors = match detectors(&args) {
        Ok(detectors) => detectors,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let names: Vec<&str> = detectors.iter().map(|(name, _)| *name).collect();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut by_engine: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut events, mut errors, mut bytes) = (0u64, 0u64, 0u64);
    // Alerts are counted and dropped as they come, as a sink would: memory stays flat.
    let mut drain = |alerts: &mut Vec<Alert>| {
        for alert in alerts.drain(..) {
            *by_engine.entry(alert.engine.as_str()).or_default() += 1;
        }
    };
    let start = Instant::now();
    for _ in 0..args.repeat {
        let stats = read_paths(
            &args.files,
            &ReadOptions::default(),
            |event| {
                for (_, detector) in &mut detectors {
                    detector.observe(&event, &mut alerts);
                }
                drain(&mut alerts);
            },
            |_error| {},
        );
        events += stats.events;
        errors += stats.errors;
        bytes += stats.bytes;
    }
    for (_, detector) in &mut detectors {
        detector.finish(&mut alerts);
    }
    drain(&mut alerts);
    let seconds = start.elapsed().as_secs_f64();
    let rate = events as f64 / seconds.max(1e-9);
    let total: u64 = by_engine.values().sum();
    let rss = peak_rss_kib();
    if args.json {
        let value = serde_json::json!({
            "detectors": names,
            "events": events,
            "errors": errors,
            "bytes": bytes,
            "seconds": seconds,
            "eventsPerSecond": rate,
            "alerts": total,
            "alertsByEngine": by_engine,
            "peakRssKiB": rss,
        });
        println!("{value}");
    } else {
        let detectors = if names.is_empty() {
            "none (parse only)".to_string()
        } else {
            names.join(" + ")
        };
        println!("detectors: {detectors}");
        println!(
            "events:    {events} ({errors} errors, {:.1} MB) in {seconds:.3} s",
            bytes as f64 / 1e6
        );
        println!("rate:      {rate:.0} events/s");
        let engines: Vec<String> = by_engine.iter().map(|(e, n)| format!("{e} {n}")).collect();
        println!("alerts:    {total} ({})", engines.join(", "));
        match rss {
            Some(kib) => println!("peak RSS:  {:.1} MiB", kib as f64 / 1024.0),
            None => println!("peak RSS:  unknown"),
        }
    }
    if events == 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

//! Command-line flags. Parsing only; commands validate and act.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Continuous security and compliance for Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan manifests (files, directories, kustomizations, `-` for stdin) or a live cluster
    /// (`--cluster`) against the control catalog and score them per compliance framework.
    Scan(Box<ScanArgs>),
    /// List or show the built-in controls.
    #[command(subcommand)]
    Controls(ControlsCommand),
    /// List or show the compliance frameworks and their requirements.
    #[command(subcommand)]
    Frameworks(FrameworksCommand),
    /// Work with policies: run Gatekeeper `gator verify` suites.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The admission webhook: serve it, or print the manifests that install it.
    #[command(subcommand)]
    Admission(AdmissionCommand),
    /// Audit-log analysis: analyse audit logs, or serve the API server's audit webhook.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `palisade scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files, directories (read recursively) or `-` for stdin.
    #[arg(
        required_unless_present = "cluster",
        conflicts_with = "cluster",
        value_name = "PATH"
    )]
    pub paths: Vec<PathBuf>,
    /// Scan the live cluster of the kubeconfig (or, in a pod, the one it runs in): every
    /// served resource the credentials may list.
    #[arg(long)]
    pub cluster: bool,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,
    /// Scan only this namespace (its Namespace object and namespaced resources).
    #[arg(short, long, value_name = "NAME", requires = "cluster")]
    pub namespace: Option<String>,
    /// Objects per list request when reading a cluster (like kubectl's --chunk-size).
    #[arg(long, value_name = "N", default_value_t = 500, requires = "cluster",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write the report to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Score these frameworks and run only their controls (repeatable; see `palisade
    /// frameworks list`). Without it, every control runs and every framework is scored.
    #[arg(long = "framework", value_name = "ID")]
    pub frameworks: Vec<String>,
    /// Run only controls of this severity or above.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub severity: Option<palisade_model::Severity>,
    /// Exit 1 when a finding of this severity or above remains (`none`: never).
    #[arg(long, value_name = "SEVERITY", default_value = "info")]
    pub fail_on: String,
    /// Run only these controls (ids or globs such as `PAL-1*`; repeatable).
    #[arg(long, value_name = "CONTROL")]
    pub include: Vec<String>,
    /// Never run these controls (ids or globs; repeatable).
    #[arg(long, value_name = "CONTROL")]
    pub exclude: Vec<String>,
    /// Exceptions file (YAML): accepted risks with reason and expiry.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Policies to run beside the built-in controls: Gatekeeper ConstraintTemplates (Rego or
    /// CEL) and Constraints, ValidatingAdmissionPolicies and their bindings (files or
    /// directories; repeatable).
    #[arg(long, value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Largest input file read, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_file_size: u64,
    /// Also list notices (documents that are not Kubernetes objects, duplicate keys, ...).
    #[arg(short, long)]
    pub verbose: bool,
    /// Never colour the output (also: NO_COLOR=1).
    #[arg(long)]
    pub no_color: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

fn parse_severity(s: &str) -> Result<palisade_model::Severity, String> {
    s.parse()
}

/// Report formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Grouped, coloured table for a terminal.
    Table,
    /// JSON report (versioned schema).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Markdown, for pull-request comments.
    Markdown,
    /// Self-contained HTML compliance report.
    Html,
}

/// Formats of the listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table.
    Table,
    /// JSON.
    Json,
}

/// `palisade controls`.
#[derive(Debug, Subcommand)]
pub enum ControlsCommand {
    /// List controls.
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Only controls this framework maps.
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        /// Only controls of this severity or above.
        #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
        severity: Option<palisade_model::Severity>,
    },
    /// Show one control: rationale, remediation, references, frameworks.
    Show {
        /// Control id (`PAL-101`).
        id: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

/// `palisade frameworks`.
#[derive(Debug, Subcommand)]
pub enum FrameworksCommand {
    /// List frameworks.
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Show one framework's requirements and the controls mapped to each.
    Show {
        /// Framework id (`cis-1.12`).
        id: String,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

/// `palisade policy`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run Gatekeeper `gator verify` suites (`kind: Suite`, test.gatekeeper.sh): each case
    /// reviews one object with a template and constraint and checks the violations.
    Test(PolicyTestArgs),
}

/// `palisade policy test`.
#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// Suite files, or directories searched recursively for them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Run only the cases whose `test/case` name matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub run: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Print only failures and the summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Never colour the output (also: NO_COLOR=1).
    #[arg(long)]
    pub no_color: bool,
}

/// `palisade admission`.
#[derive(Debug, Subcommand)]
pub enum AdmissionCommand {
    /// Serve the validating (`/validate`) and mutating (`/mutate`) webhook over HTTPS, with
    /// `/healthz`, `/readyz` and `/metrics`.
    Serve(Box<ServeArgs>),
    /// Print the objects that install the webhook: namespace, Deployment (2 replicas,
    /// PodDisruptionBudget, restricted pod security), Service, certificates, and the
    /// Validating/MutatingWebhookConfigurations.
    Manifests(Box<ManifestsArgs>),
}

/// `palisade admission manifests`.
#[derive(Debug, Args)]
pub struct ManifestsArgs {
    /// Namespace created for the server.
    #[arg(short, long, value_name = "NAME", default_value = "palisade-system")]
    pub namespace: String,
    /// Name of the Deployment, Service and webhook configurations.
    #[arg(long, value_name = "NAME", default_value = "palisade-admission")]
    pub name: String,
    /// Container image (default: this release's; a digest-pinned reference is better).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Server replicas.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub replicas: u32,
    /// Policy file to install in a ConfigMap (default: the built-in policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Certificates from cert-manager instead of a self-signed CA generated now.
    #[arg(long)]
    pub cert_manager: bool,
    /// With --cert-manager: an existing Issuer in the namespace (default: a self-signed CA).
    #[arg(
        long,
        value_name = "NAME",
        requires = "cert_manager",
        conflicts_with = "cluster_issuer"
    )]
    pub issuer: Option<String>,
    /// With --cert-manager: an existing ClusterIssuer.
    #[arg(long, value_name = "NAME", requires = "cert_manager")]
    pub cluster_issuer: Option<String>,
    /// Days the self-signed certificates are valid.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = 365,
        conflicts_with = "cert_manager"
    )]
    pub validity_days: u32,
    /// Also install the mutating webhook (safe defaults from the policy's `mutations`).
    #[arg(long)]
    pub mutating: bool,
    /// failurePolicy of the validating webhook.
    #[arg(long, value_name = "POLICY", default_value = "Fail", value_parser = ["Fail", "Ignore"])]
    pub validating_failure_policy: String,
    /// failurePolicy of the mutating webhook.
    #[arg(long, value_name = "POLICY", default_value = "Ignore", value_parser = ["Fail", "Ignore"])]
    pub mutating_failure_policy: String,
    /// Seconds the API server waits for the webhook (1-30).
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub timeout: u32,
    /// Label that exempts an object from the webhooks.
    #[arg(
        long,
        value_name = "KEY",
        default_value = "admission.palisade.dev/ignore"
    )]
    pub opt_out_label: String,
    /// No opt-out label: every object of the matched kinds is reviewed.
    #[arg(long, conflicts_with = "opt_out_label")]
    pub no_opt_out_label: bool,
    /// priorityClassName of the server's pods.
    #[arg(long, value_name = "NAME")]
    pub priority_class: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `palisade admission serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: std::net::SocketAddr,
    /// Serving certificate chain (PEM); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// Its private key (PEM); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Require client certificates signed by this CA (PEM) on /validate and /mutate.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Admission policy file (AdmissionConfiguration); reloaded when it changes. Without
    /// it: deny what violates Pod Security Standards baseline, warn on everything else.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Largest review accepted, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 3072)]
    pub max_review_size: usize,
    /// Reviews evaluated at once (default: 16 per core); beyond, requests get 503 at once
    /// (load shedding).
    #[arg(long, value_name = "N")]
    pub max_in_flight: Option<usize>,
    /// Seconds a client has for its TLS handshake, its headers and its body, each.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `palisade audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Analyse audit logs (JSON lines, gzip, directories, `-` for stdin; AKS and GKE
    /// envelopes) with Palisade's detections, Falco and Sigma rules and learned baselines.
    Analyze(Box<AuditAnalyzeArgs>),
    /// Serve the API server's audit webhook over HTTPS (`POST /audit`, with `/healthz`,
    /// `/readyz` and `/metrics`): each batch is written to a journal before it is
    /// acknowledged, analysed from there, and analysed once even across crashes.
    Serve(Box<AuditServeArgs>),
}

/// The detections `palisade audit analyze` and `serve` run.
#[derive(Debug, Clone, Args)]
pub struct AuditRuleArgs {
    /// Do not run Palisade's own detection pack.
    #[arg(long)]
    pub no_builtin: bool,
    /// Falco rules file (repeatable; later files append to and override earlier ones, as
    /// with `falco -r`).
    #[arg(long = "falco-rules", value_name = "FILE")]
    pub falco_rules: Vec<PathBuf>,
    /// Sigma rule file or directory of rules (repeatable); rules for other log sources are
    /// reported and left out.
    #[arg(long = "sigma", value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Learned baselines: read from this file if it exists, learned on the way, and saved
    /// back at the end (and every minute while following or serving).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Palisade pack detections to leave out (ids, repeatable).
    #[arg(long = "disable", value_name = "ID")]
    pub disabled: Vec<String>,
}

/// `palisade audit analyze`.
#[derive(Debug, Args)]
pub struct AuditAnalyzeArgs {
    /// Audit log files (plain or gzip), directories (read recursively) or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The detections.
    #[command(flatten)]
    pub rules: AuditRuleArgs,
    /// Keep reading the files as they grow and rotate, like `tail -F` (stop with Ctrl-C).
    #[arg(long)]
    pub follow: bool,
    /// Only learn the baselines (needs --baseline): no alerts, for a first pass over
    /// historical logs.
    #[arg(long, requires = "baseline")]
    pub learn: bool,
    /// What stdout shows: a table (alerts as they come, then a summary) or JSON lines
    /// (one alert per line, schema in docs/audit/alerts.md).
    #[arg(short, long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Also append every alert as a JSON line to this file.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also POST every alert as JSON to this URL (retried with backoff).
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// CA bundle (PEM) that signs the webhook's certificate (default: the system's).
    #[arg(long, value_name = "FILE", requires = "webhook")]
    pub webhook_ca: Option<PathBuf>,
    /// Report only alerts of this severity or above.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub min_severity: Option<palisade_model::Severity>,
    /// Exit 1 when an alert of this severity or above was raised (`none`: never).
    #[arg(long, value_name = "SEVERITY", default_value = "none")]
    pub fail_on: String,
}

/// What `palisade audit analyze` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Alerts as they come, then the summary table.
    Table,
    /// One alert per line as JSON.
    Json,
}

/// `palisade audit serve`.
#[derive(Debug, Args)]
pub struct AuditServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:9443")]
    pub listen: std::net::SocketAddr,
    /// Serving certificate chain (PEM); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// Its private key (PEM); reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Require client certificates signed by this CA (PEM) on /audit.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Directory of the journal and the checkpoint (created if missing; one server each).
    #[arg(long, value_name = "DIR")]
    pub state_dir: PathBuf,
    /// Append alerts (JSON lines) to this file instead of stdout; exactly once across crashes.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Largest batch accepted, in KiB (413 beyond).
    #[arg(long, value_name = "KIB", default_value_t = 16384, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_batch_size: u64,
    /// Journal bytes accepted but not yet analysed, at most, in MiB (429 beyond).
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_backlog: u64,
    /// Batches received or written at once (503 beyond).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight: u64,
    /// Journal segment size, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub segment_size: u64,
    /// Seconds a client has for its TLS handshake, its headers and its body, each.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout: u64,
    /// The detections.
    #[command(flatten)]
    pub rules: AuditRuleArgs,
    /// Debugging: also raise one `echo` alert per event, to see what arrives.
    #[arg(long)]
    pub echo_events: bool,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Log formats of the servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line per event, for a person.
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/*!
Falco rules over Kubernetes audit events.

Loads Falco rule files (lists, macros, rules, `append`/`override`, `exceptions`,
`enabled`, required versions) such as the upstream `k8s_audit_rules.yaml`, compiles every
condition once into an expression tree over pre-resolved `ka.*`/`jevt.*` extractors, and
raises one [`Alert`](crate::Alert) per enabled rule an event matches, with the rule's output
filled in.

```
use palisade_audit::falco::FalcoRules;
use palisade_audit::{Detector, Origin};

let rules = r#"
- list: admins
  items: [alice]
- macro: kevt
  condition: (jevt.value[/stage] in (ResponseComplete))
- rule: Secret read by a non-admin
  desc: Detect secret reads outside the admin list
  condition: kevt and ka.target.resource=secrets and ka.verb=get and not ka.user.name in (admins)
  output: Secret read (user=%ka.user.name secret=%ka.target.namespace/%ka.target.name)
  priority: WARNING
  source: k8s_audit
  tags: [k8s, T1552.007]
"#;
let (mut falco, warnings) = FalcoRules::load_str("my_rules.yaml", rules).unwrap();
assert!(warnings.is_empty());
assert_eq!(falco.rule_count(), 1);

let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"1","stage":"ResponseComplete",
  "verb":"get","user":{"username":"bob"},"objectRef":{"resource":"secrets","namespace":"prod","name":"db"},
  "responseStatus":{"code":200}}"#;
let event = palisade_audit::event::parse(line, &Origin::new("audit.log", 1)).unwrap().remove(0);
let mut alerts = Vec::new();
falco.observe(&event, &mut alerts);
assert_eq!(alerts.len(), 1);
assert_eq!(alerts[0].message, "Secret read (user=bob secret=prod/db)");
assert_eq!(alerts[0].priority, "WARNING");
assert_eq!(alerts[0].attack, ["T1552.007"]);
```
*/

mod collector;
mod compile;
mod condition;
mod diag;
mod exceptions;
mod expr;
mod fields;
mod ops;
mod output;
mod priority;
mod reader;

pub use diag::{Diagnostic, Error, Warning};
pub use fields::K8SAUDIT_FIELDS;
pub use priority::Priority;

use crate::{Alert, Detector, Engine, Event};
use collector::{Collector, K8S_AUDIT, RuleInfo};
use compile::{Compiler, Fail, MacroDef, Source};
use condition::{Ast, Rhs};
use diag::Diags;
use expr::{Ctx, Expr};
use fields::FieldRef;
use output::Output;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Rule files larger than this are refused: real ones are tens of kilobytes.
pub const MAX_RULES_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A compiled set of Falco rules for the `k8s_audit` source.
#[derive(Debug, Clone, Default)]
pub struct FalcoRules {
    rules: Vec<CompiledRule>,
    disabled: usize,
    fields: Vec<FieldRef>,
    /// Macro memo slots an evaluation needs.
    memos: usize,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    name: String,
    priority: Priority,
    priority_text: String,
    tags: Vec<String>,
    attack: Vec<String>,
    condition: Expr,
    output: Output,
}

/// What a lenient load produced: the rules that compiled, and every problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The rules that loaded.
    pub rules: FalcoRules,
    /// Items that did not load, each with file and line.
    pub errors: Vec<Error>,
    /// Things that loaded but deserve a look.
    pub warnings: Vec<Warning>,
}

impl FalcoRules {
    /// Loads rule files in order (later files extend and override earlier ones, as
    /// `falco -r a -r b`). Any error fails the load, as in Falco; every error is reported.
    pub fn load(files: &[PathBuf]) -> Result<(FalcoRules, Vec<Warning>), Vec<Error>> {
        strict(FalcoRules::load_partial(files))
    }

    /// Loads rule files, keeping every rule that compiles: a broken item or rule is reported
    /// and left out, and the rest still run.
    pub fn load_partial(files: &[PathBuf]) -> Loaded {
        let mut texts = Vec::with_capacity(files.len());
        let mut unreadable = Vec::new();
        for path in files {
            let name = path.display().to_string();
            match read_file(path) {
                Ok(text) => texts.push((name, text)),
                Err(message) => unreadable.push(Diagnostic {
                    file: name,
                    line: 0,
                    column: None,
                    item: None,
                    message,
                }),
            }
        }
        let refs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let mut loaded = FalcoRules::load_texts(&refs);
        unreadable.append(&mut loaded.errors);
        loaded.errors = unreadable;
        loaded
    }

    /// Loads one rules text named `name` (used in messages), strictly.
    pub fn load_str(name: &str, text: &str) -> Result<(FalcoRules, Vec<Warning>), Vec<Error>> {
        strict(FalcoRules::load_texts(&[(name, text)]))
    }

    /// Loads several `(name, text)` rule sources in order, leniently.
    pub fn load_texts(sources: &[(&str, &str)]) -> Loaded {
        let mut collector = Collector::default();
        let mut diags = Diags::default();
        for (name, text) in sources {
            reader::read(name, text, &mut collector, &mut diags);
        }
        let rules = build(&collector, &mut diags);
        dedup(&mut diags.errors);
        dedup(&mut diags.warnings);
        Loaded {
            rules,
            errors: diags.errors,
            warnings: diags.warnings,
        }
    }

    /// Enabled rules that will be evaluated.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Rules that loaded but are disabled (`enabled: false`).
    pub fn disabled_count(&self) -> usize {
        self.disabled
    }

    /// The names of the enabled rules, in load order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// The names of the enabled rules an event matches, without building alerts.
    pub fn matching(&self, event: &Event) -> Vec<&str> {
        let mut ctx = Ctx::new(event, &self.fields, self.memos);
        self.rules
            .iter()
            .filter(|r| r.condition.eval(&mut ctx))
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Distinct fields the rules read (each extracted at most once per event).
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }
}

impl Detector for FalcoRules {
    fn engine(&self) -> Engine {
        Engine::Falco
    }

    fn observe(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        let mut ctx = Ctx::new(event, &self.fields, self.memos);
        for rule in &self.rules {
            if !rule.condition.eval(&mut ctx) {
                continue;
            }
            let message = rule.output.render(&mut ctx);
            let mut alert = Alert::for_event(
                rule.name.as_str(),
                Engine::Falco,
                rule.priority_text.as_str(),
                rule.priority.severity(),
                message,
                event,
            );
            alert.tags.clone_from(&rule.tags);
            alert.attack.clone_from(&rule.attack);
            alerts.push(alert);
        }
    }
}

fn strict(loaded: Loaded) -> Result<(FalcoRules, Vec<Warning>), Vec<Error>> {
    if loaded.errors.is_empty() {
        Ok((loaded.rules, loaded.warnings))
    } else {
        Err(loaded.errors)
    }
}

fn read_file(path: &PathBuf) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_RULES_FILE_BYTES {
        return Err(format!(
            "{} bytes, over the {MAX_RULES_FILE_BYTES}-byte limit for a rules file",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))
}

fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    diags.retain(|d| seen.insert(d.to_string()));
}

/// Compiles what the collector holds into a rule set.
fn build(collector: &Collector, diags: &mut Diags) -> FalcoRules {
    let (lists, mut used_lists) = collector.resolved_lists();
    let macros = parse_macros(collector, diags);
    let mut used_macros: HashSet<String> = HashSet::new();
    for def in macros.values() {
        if let Ok(ast) = &def.ast {
            walk(ast, &mut |node| match node {
                Ast::Macro { name, .. } => {
                    used_macros.insert(name.clone());
                }
                Ast::Compare { rhs, .. } => mark_lists(rhs, &lists, &mut used_lists),
                _ => {}
            });
        }
    }
    check_macro_references(collector, &macros, diags);

    let mut compiler = Compiler::new(&lists, &macros);
    let mut out = FalcoRules::default();
    for info in &collector.rules {
        if info.source != K8S_AUDIT {
            diags.warnings.push(
                info.loc
                    .diag(format!("Unknown source {}, skipping", info.source)),
            );
            continue;
        }
        match compile_rule(info, &mut compiler, &lists, &mut used_lists) {
            Ok(rule) if info.enabled => out.rules.push(rule),
            Ok(_) => out.disabled += 1,
            Err(Fail::Here(diag)) => diags.errors.push(diag),
            Err(Fail::Macro(name, diag)) => {
                diags.errors.push(diag);
                diags.errors.push(info.loc.diag(format!(
                    "not loaded: it uses macro '{name}', which has errors (reported above)"
                )));
            }
        }
    }
    used_macros.extend(compiler.used_macros.iter().cloned());
    out.fields = compiler.fields;
    out.memos = compiler.memos;

    for mac in &collector.macros {
        if !used_macros.contains(&mac.name) {
            diags.warnings.push(
                mac.loc
                    .diag("Macro not referred to by any other rule/macro"),
            );
        }
    }
    let used_lists: HashSet<String> = used_lists.into_iter().collect();
    for list in &collector.lists {
        if !used_lists.contains(&list.name) {
            diags.warnings.push(
                list.loc
                    .diag("List not referred to by any other rule/macro"),
            );
        }
    }
    out
}

fn parse_macros(collector: &Collector, diags: &mut Diags) -> HashMap<String, MacroDef> {
    let mut macros = HashMap::new();
    for mac in &collector.macros {
        let source = Source {
            loc: mac.loc.clone(),
            text: mac.cond.clone(),
            offset: 0,
            base: 0,
        };
        let ast = condition::parse(&mac.cond).map_err(|e| source.error_at(e.pos, e.message));
        if let Err(diag) = &ast {
            diags.errors.push(diag.clone());
        }
        macros.insert(mac.name.clone(), MacroDef { source, ast });
    }
    macros
}

/// Undefined and recursive macro references are errors even in macros no rule uses, as
/// Falco resolves every macro.
fn check_macro_references(
    collector: &Collector,
    macros: &HashMap<String, MacroDef>,
    diags: &mut Diags,
) {
    let refs = |name: &str| -> Vec<(String, usize)> {
        let mut out = Vec::new();
        if let Some(Ok(ast)) = macros.get(name).map(|d| &d.ast) {
            walk(ast, &mut |node| {
                if let Ast::Macro { name, pos } = node {
                    out.push((name.clone(), *pos));
                }
            });
        }
        out
    };
    for mac in &collector.macros {
        let Some(def) = macros.get(&mac.name) else {
            continue;
        };
        for (name, pos) in refs(&mac.name) {
            if !macros.contains_key(&name) {
                diags.errors.push(
                    def.source
                        .error_at(pos, format!("Undefined macro '{name}' used in filter.")),
                );
            }
        }
        // Depth-first search for a path back to this macro.
        let mut stack = vec![(mac.name.clone(), vec![mac.name.clone()])];
        let mut seen = HashSet::new();
        while let Some((current, path)) = stack.pop() {
            for (next, _) in refs(&current) {
                if next == mac.name {
                    let mut cycle = path.clone();
                    cycle.push(next);
                    diags.errors.push(def.source.loc.diag(format!(
                        "macro '{}' is recursive: {}",
                        mac.name,
                        cycle.join(" -> ")
                    )));
                    stack.clear();
                    break;
                }
                if macros.contains_key(&next) && seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next, longer));
                }
            }
        }
    }
}

fn compile_rule(
    info: &RuleInfo,
    compiler: &mut Compiler<'_>,
    lists: &HashMap<String, Vec<String>>,
    used_lists: &mut Vec<String>,
) -> Result<CompiledRule, Fail> {
    let (text, offset) = if info.exceptions.is_empty() {
        (info.cond.clone(), 0)
    } else {
        let text = exceptions::expand(&info.cond, &info.exceptions)
            .map_err(|m| Fail::Here(info.loc.diag(m)))?;
        (text, 1)
    };
    let source = Source {
        loc: info.cond_loc.clone(),
        text,
        offset,
        base: 0,
    };
    let ast = condition::parse(&source.text)
        .map_err(|e| Fail::Here(source.error_at(e.pos, e.message)))?;
    walk(&ast, &mut |node| {
        if let Ast::Compare { rhs, .. } = node {
            mark_lists(rhs, lists, used_lists);
        }
    });
    let condition = compiler.compile(&ast, &source)?;
    let output_source = Source {
        loc: info.output_loc.clone(),
        text: info.output.clone(),
        offset: 0,
        base: 0,
    };
    let output = Output::compile(&info.output, compiler, &output_source)?;
    let tags: Vec<String> = info.tags.iter().cloned().collect();
    Ok(CompiledRule {
        name: info.name.clone(),
        priority: info.priority,
        priority_text: info.priority_text.clone(),
        attack: attack_ids(&tags),
        tags,
        condition,
        output,
    })
}

fn walk(ast: &Ast, visit: &mut dyn FnMut(&Ast)) {
    visit(ast);
    match ast {
        Ast::And(children) | Ast::Or(children) => children.iter().for_each(|c| walk(c, visit)),
        Ast::Not(child) => walk(child, visit),
        _ => {}
    }
}

fn mark_lists(rhs: &Rhs, lists: &HashMap<String, Vec<String>>, used: &mut Vec<String>) {
    match rhs {
        Rhs::List(items) => used.extend(
            items
                .iter()
                .filter(|i| i.bare && lists.contains_key(&i.text))
                .map(|i| i.text.clone()),
        ),
        Rhs::ListName(name) => used.push(name.clone()),
        _ => {}
    }
}

/// MITRE ATT&CK ids in a rule's tags: technique ids (`T1609`, `T1552.007`) as they are, and
/// Falco's `mitre_<tactic>` tags as tactic ids (`mitre_execution` is `TA0002`).
fn attack_ids(tags: &[String]) -> Vec<String> {
    const TACTICS: [(&str, &str); 14] = [
        ("reconnaissance", "TA0043"),
        ("resource_development", "TA0042"),
        ("initial_access", "TA0001"),
        ("execution", "TA0002"),
        ("persistence", "TA0003"),
        ("privilege_escalation", "TA0004"),
        ("defense_evasion", "TA0005"),
        ("credential_access", "TA0006"),
        ("discovery", "TA0007"),
        ("lateral_movement", "TA0008"),
        ("collection", "TA0009"),
        ("command_and_control", "TA0011"),
        ("exfiltration", "TA0010"),
        ("impact", "TA0040"),
    ];
    let mut ids = Vec::new();
    for tag in tags {
        if is_technique(tag) {
            ids.push(tag.to_ascii_uppercase());
        } else if let Some(tactic) = tag.strip_prefix("mitre_")
            && let Some((_, id)) = TACTICS.iter().find(|(name, _)| *name == tactic)
        {
            ids.push((*id).to_string());
        }
    }
    ids.dedup();
    ids
}

fn is_technique(tag: &str) -> bool {
    let b = tag.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match (b.first(), b.get(1..5), b.get(5..)) {
        (Some(b'T' | b't'), Some(id), Some(rest)) if digits(id) => {
            rest.is_empty()
                || (rest.len() == 4
                    && rest.first() == Some(&b'.')
                    && digits(rest.get(1..).unwrap_or_default()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_ids_from_tags() {
        let tags: Vec<String> = [
            "k8s",
            "T1609",
            "t1552.007",
            "mitre_execution",
            "mitre_unknown",
            "T12",
            "T1609.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(attack_ids(&tags), ["T1609", "T1552.007", "TA0002"]);
    }
}

//! The definitions read from all rule files, merged as Falco's rule collector merges them:
//! a redefinition replaces, `append`/`override: append` extends, `override: replace`
//! replaces single keys, and the standalone `enabled` form toggles a rule.

use super::diag::Loc;
use super::exceptions::{self, Exception};
use super::priority::Priority;
use std::collections::{BTreeSet, HashMap};

/// A list as defined (its items may name earlier lists).
#[derive(Debug, Clone)]
pub struct ListInfo {
    pub name: String,
    pub items: Vec<String>,
    pub loc: Loc,
    /// Order of first definition.
    pub index: u32,
    /// Order of the last definition or change: a list sees the lists defined before it.
    pub visibility: u32,
}

/// A macro as defined.
#[derive(Debug, Clone)]
pub struct MacroInfo {
    pub name: String,
    pub cond: String,
    pub loc: Loc,
}

/// A rule as defined.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub name: String,
    pub cond: String,
    pub output: String,
    pub desc: String,
    pub priority: Priority,
    /// The priority as written, for alerts.
    pub priority_text: String,
    pub source: String,
    pub enabled: bool,
    pub tags: BTreeSet<String>,
    pub exceptions: Vec<Exception>,
    pub loc: Loc,
    pub cond_loc: Loc,
    pub output_loc: Loc,
}

/// The parts of a rule an `override` (or `append: true`) changes.
#[derive(Debug, Default)]
pub struct RuleUpdate {
    pub cond: Option<String>,
    pub output: Option<String>,
    pub desc: Option<String>,
    pub tags: Option<BTreeSet<String>>,
    pub exceptions: Option<Vec<Exception>>,
    pub priority: Option<(Priority, String)>,
    pub enabled: Option<bool>,
    pub cond_loc: Option<Loc>,
}

impl RuleUpdate {
    fn has_any_value(&self) -> bool {
        self.cond.is_some()
            || self.output.is_some()
            || self.desc.is_some()
            || self.tags.is_some()
            || self.exceptions.is_some()
            || self.priority.is_some()
            || self.enabled.is_some()
    }
}

/// The only event source this engine evaluates.
pub const K8S_AUDIT: &str = "k8s_audit";

/// Everything read so far, in definition order.
#[derive(Debug, Default)]
pub struct Collector {
    pub lists: Vec<ListInfo>,
    list_index: HashMap<String, usize>,
    pub macros: Vec<MacroInfo>,
    macro_index: HashMap<String, usize>,
    pub rules: Vec<RuleInfo>,
    rule_index: HashMap<String, usize>,
    counter: u32,
}

impl Collector {
    fn next(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }

    /// Defines (or redefines, keeping its place) a list.
    pub fn define_list(&mut self, mut list: ListInfo) {
        let id = self.next();
        list.visibility = id;
        match self.list_index.get(&list.name) {
            Some(&i) => {
                if let Some(prev) = self.lists.get_mut(i) {
                    list.index = prev.index;
                    *prev = list;
                }
            }
            None => {
                list.index = id;
                self.list_index.insert(list.name.clone(), self.lists.len());
                self.lists.push(list);
            }
        }
    }

    /// Appends items to an existing list.
    pub fn append_list(&mut self, name: &str, items: Vec<String>) -> Result<(), String> {
        let id = self.next();
        let prev = self
            .list_index
            .get(name)
            .and_then(|i| self.lists.get_mut(*i))
            .ok_or("List uses 'append' or 'override.items: append' but no list by that name already exists")?;
        prev.items.extend(items);
        prev.visibility = id;
        Ok(())
    }

    /// Looks a list up.
    pub fn list(&self, name: &str) -> Option<&ListInfo> {
        self.list_index.get(name).and_then(|i| self.lists.get(*i))
    }

    /// Defines (or redefines) a macro.
    pub fn define_macro(&mut self, mac: MacroInfo) {
        self.next();
        match self.macro_index.get(&mac.name) {
            Some(&i) => {
                if let Some(prev) = self.macros.get_mut(i) {
                    *prev = mac;
                }
            }
            None => {
                self.macro_index.insert(mac.name.clone(), self.macros.len());
                self.macros.push(mac);
            }
        }
    }

    /// Appends text to a macro's condition (Falco joins with a space: the appended text
    /// supplies its own `and`/`or`).
    pub fn append_macro(&mut self, name: &str, cond: &str) -> Result<(), String> {
        self.next();
        let prev = self
            .macro_index
            .get(name)
            .and_then(|i| self.macros.get_mut(*i))
            .ok_or("Macro uses 'append' or 'override.condition: append' but no macro by that name already exists")?;
        prev.cond.push(' ');
        prev.cond.push_str(cond);
        Ok(())
    }

    fn rule_mut(
        &mut self,
        name: &str,
        source: Option<&str>,
    ) -> Result<Option<&mut RuleInfo>, String> {
        let prev = self
            .rule_index
            .get(name)
            .and_then(|i| self.rules.get_mut(*i));
        if let (Some(prev), Some(source)) = (&prev, source)
            && !source.is_empty()
            && !prev.source.is_empty()
            && prev.source != source
        {
            return Err("Rule has been re-defined with a different source".into());
        }
        Ok(prev)
    }

    /// Defines (or redefines) a rule. Exceptions are validated here, as Falco does.
    pub fn define_rule(&mut self, mut rule: RuleInfo) -> Result<(), String> {
        self.rule_mut(&rule.name, Some(&rule.source))?;
        let check_fields = rule.source == K8S_AUDIT;
        for ex in &mut rule.exceptions {
            exceptions::validate(ex, check_fields)
                .map_err(|e| format!("exception '{}': {e}", ex.name))?;
        }
        self.next();
        match self.rule_index.get(&rule.name) {
            Some(&i) => {
                if let Some(prev) = self.rules.get_mut(i) {
                    *prev = rule;
                }
            }
            None => {
                self.rule_index.insert(rule.name.clone(), self.rules.len());
                self.rules.push(rule);
            }
        }
        Ok(())
    }

    /// `append: true` or `override: {key: append}`: extends condition, output, desc, tags
    /// and exceptions (values of an exception of the same name are added to it).
    pub fn append_rule(
        &mut self,
        name: &str,
        source: Option<&str>,
        update: RuleUpdate,
    ) -> Result<(), String> {
        self.next();
        let prev = self
            .rule_mut(name, source)?
            .ok_or("Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists")?;
        if !update.has_any_value() {
            return Err("Appended rule must have exceptions or condition property".into());
        }
        let check_fields = prev.source == K8S_AUDIT;
        if let Some(cond) = update.cond.filter(|c| !c.is_empty()) {
            prev.cond.push(' ');
            prev.cond.push_str(&cond);
        }
        if let Some(output) = update.output.filter(|c| !c.is_empty()) {
            prev.output.push(' ');
            prev.output.push_str(&output);
        }
        if let Some(desc) = update.desc.filter(|c| !c.is_empty()) {
            prev.desc.push(' ');
            prev.desc.push_str(&desc);
        }
        if let Some(tags) = update.tags {
            prev.tags.extend(tags);
        }
        for mut ex in update.exceptions.unwrap_or_default() {
            match prev.exceptions.iter_mut().find(|e| e.name == ex.name) {
                None => {
                    if ex.values.is_empty() {
                        return Err(format!(
                            "exception '{}': Rule exception must have values property with a list of values",
                            ex.name
                        ));
                    }
                    exceptions::validate(&mut ex, check_fields)
                        .map_err(|e| format!("exception '{}': {e}", ex.name))?;
                    prev.exceptions.push(ex);
                }
                Some(existing) => {
                    if ex.fields.is_some() {
                        return Err(format!(
                            "exception '{}': Can not append exception fields to existing exception, only values",
                            ex.name
                        ));
                    }
                    if ex.comps.is_some() {
                        return Err(format!(
                            "exception '{}': Can not append exception comps to existing exception, only values",
                            ex.name
                        ));
                    }
                    existing.values.extend(ex.values);
                }
            }
        }
        Ok(())
    }

    /// `override: {key: replace}`: replaces exactly the keys given.
    pub fn replace_rule(
        &mut self,
        name: &str,
        source: Option<&str>,
        update: RuleUpdate,
    ) -> Result<(), String> {
        self.next();
        let prev = self
            .rule_mut(name, source)?
            .ok_or("An 'override.<key>: replace' to a rule was requested but no rule by that name already exists")?;
        if !update.has_any_value() {
            return Err("The rule must have at least one field that can be replaced".into());
        }
        let check_fields = prev.source == K8S_AUDIT;
        if let Some(cond) = update.cond {
            prev.cond = cond;
            if let Some(loc) = update.cond_loc {
                prev.cond_loc = loc;
            }
        }
        if let Some(output) = update.output {
            prev.output = output;
        }
        if let Some(desc) = update.desc {
            prev.desc = desc;
        }
        if let Some(tags) = update.tags {
            prev.tags = tags;
        }
        if let Some(mut exs) = update.exceptions {
            for ex in &mut exs {
                exceptions::validate(ex, check_fields)
                    .map_err(|e| format!("exception '{}': {e}", ex.name))?;
            }
            prev.exceptions = exs;
        }
        if let Some((priority, text)) = update.priority {
            prev.priority = priority;
            prev.priority_text = text;
        }
        if let Some(enabled) = update.enabled {
            prev.enabled = enabled;
        }
        Ok(())
    }

    /// The deprecated standalone `- rule: X` + `enabled: B`.
    pub fn enable_rule(&mut self, name: &str, enabled: bool) -> Result<(), String> {
        let prev = self
            .rule_mut(name, None)?
            .ok_or("Rule has 'enabled' key but no rule by that name already exists")?;
        prev.enabled = enabled;
        Ok(())
    }

    /// Every list's items with names of lists defined before it replaced by their items.
    pub fn resolved_lists(&self) -> (HashMap<String, Vec<String>>, Vec<String>) {
        let mut used = Vec::new();
        let mut out = HashMap::new();
        for list in &self.lists {
            let mut items = Vec::new();
            self.expand_into(list, list.visibility, &mut items, &mut used, 0);
            out.insert(list.name.clone(), items);
        }
        (out, used)
    }

    fn expand_into(
        &self,
        list: &ListInfo,
        visibility: u32,
        out: &mut Vec<String>,
        used: &mut Vec<String>,
        depth: u32,
    ) {
        for item in &list.items {
            match self
                .list(item)
                .filter(|l| l.index < visibility && depth < 64)
            {
                Some(inner) => {
                    used.push(inner.name.clone());
                    self.expand_into(
                        inner,
                        visibility.min(inner.visibility),
                        out,
                        used,
                        depth + 1,
                    );
                }
                None => out.push(item.clone()),
            }
        }
    }
}

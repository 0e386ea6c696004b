//! The named threats: Log4Shell probes, crypto-miners, exfiltration, reverse shells and
//! download-and-run in exec commands.

use super::command;
use super::cx::Cx;
use super::log4shell::has_jndi;
use super::spec::{self, containers};
use super::workloads::{done, kind, spec_written};
use serde_json::Value;

/// The first string (key or value) of `value` that satisfies `test`, depth first.
fn find_string<'v>(value: &'v Value, test: &dyn Fn(&str) -> bool) -> Option<&'v str> {
    match value {
        Value::String(s) => test(s).then_some(s.as_str()),
        Value::Array(items) => items.iter().find_map(|v| find_string(v, test)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if test(k) {
                Some(k.as_str())
            } else {
                find_string(v, test)
            }
        }),
        _ => None,
    }
}

pub(super) fn log4shell(cx: &Cx<'_>) -> Option<String> {
    let place = if cx.event.request_uri().is_some_and(has_jndi) {
        "URI"
    } else if cx.event.user_agent().is_some_and(has_jndi) {
        "user agent"
    } else if cx
        .object()
        .and_then(|o| find_string(o, &has_jndi))
        .is_some()
    {
        "request object"
    } else {
        return None;
    };
    let from = cx
        .source()
        .map(|ip| format!(" from {ip}"))
        .unwrap_or_default();
    let on = if cx.resource.is_empty() {
        String::new()
    } else {
        format!(" {} {}", cx.resource, cx.target())
    };
    Some(format!(
        "a JNDI lookup (Log4Shell) in the {place} of a request by {}{from} to {}{on}",
        cx.who(),
        cx.verb
    ))
}

pub(super) fn miner(cx: &Cx<'_>) -> Option<String> {
    if let Some(cmd) = cx.exec_command() {
        let mark = command::miner(cmd)?;
        return Some(format!(
            "{} ran a crypto-miner ({mark}) in pod {}",
            cx.who(),
            cx.target()
        ));
    }
    let spec = spec_written(cx)?;
    containers(spec).find_map(|c| {
        let image = spec::image_of(c).unwrap_or_default();
        let mark = command::miner(&image)
            .or_else(|| command::miner(&command::container_command(c).to_ascii_lowercase()))?;
        Some(format!(
            "{} {} {} {} with a crypto-miner ({mark}) in container {}",
            cx.who(),
            done(cx.verb),
            kind(cx.resource),
            cx.target(),
            spec::name_of(c)
        ))
    })
}

pub(super) fn exfiltration(cx: &Cx<'_>) -> Option<String> {
    let cmd = cx.exec_command()?;
    if command::is_reverse_shell(cmd) {
        return None;
    }
    let how = command::exfiltration(cmd)?;
    Some(format!(
        "{} ran `{}` in pod {}: {how}",
        cx.who(),
        cx.exec_shown(),
        cx.target()
    ))
}

pub(super) fn reverse_shell(cx: &Cx<'_>) -> Option<String> {
    if let Some(cmd) = cx.exec_command() {
        return command::is_reverse_shell(cmd).then(|| {
            format!(
                "{} opened a reverse shell in pod {}: `{}`",
                cx.who(),
                cx.target(),
                cx.exec_shown()
            )
        });
    }
    let spec = spec_written(cx)?;
    containers(spec).find_map(|c| {
        let cmd = command::container_command(c);
        command::is_reverse_shell(&cmd.to_ascii_lowercase()).then(|| {
            format!(
                "{} {} {} {} whose container {} runs a reverse shell: `{}`",
                cx.who(),
                done(cx.verb),
                kind(cx.resource),
                cx.target(),
                spec::name_of(c),
                cmd
            )
        })
    })
}

pub(super) fn download_and_run(cx: &Cx<'_>) -> Option<String> {
    let cmd = cx.exec_command()?;
    command::is_download_and_run(cmd).then(|| {
        format!(
            "{} downloaded and ran a program in pod {}: `{}`",
            cx.who(),
            cx.target(),
            cx.exec_shown()
        )
    })
}

//! Into running containers: exec, attach, port-forward, ephemeral containers, and what
//! exec commands read or copy.

use super::command;
use super::cx::Cx;

fn streaming(cx: &Cx<'_>, subresource: &str) -> bool {
    cx.resource == "pods"
        && cx.subresource == subresource
        && matches!(cx.verb, "create" | "get")
        && cx.ok()
        && !cx.routine()
}

/// A command shown in a message: long ones are cut.
fn shown(cmd: &str) -> &str {
    match cmd.char_indices().nth(200) {
        Some((at, _)) => cmd.get(..at).unwrap_or(cmd),
        None => cmd,
    }
}

pub(super) fn exec_into_pod(cx: &Cx<'_>) -> Option<String> {
    if !streaming(cx, "exec") {
        return None;
    }
    Some(match cx.exec_command() {
        Some(_) => format!(
            "{} ran `{}` in pod {}",
            cx.who(),
            shown(cx.exec_shown()),
            cx.target()
        ),
        None => format!("{} opened an exec session in pod {}", cx.who(), cx.target()),
    })
}

pub(super) fn attach(cx: &Cx<'_>) -> Option<String> {
    streaming(cx, "attach").then(|| format!("{} attached to pod {}", cx.who(), cx.target()))
}

pub(super) fn port_forward(cx: &Cx<'_>) -> Option<String> {
    streaming(cx, "portforward")
        .then(|| format!("{} opened a port-forward to pod {}", cx.who(), cx.target()))
}

pub(super) fn ephemeral_container(cx: &Cx<'_>) -> Option<String> {
    if cx.resource != "pods" || cx.subresource != "ephemeralcontainers" || !cx.writes() || !cx.ok()
    {
        return None;
    }
    let image = cx.object().and_then(|o| {
        o.get("spec")?
            .get("ephemeralContainers")?
            .as_array()?
            .last()?
            .get("image")?
            .as_str()
    });
    Some(match image {
        Some(image) => format!(
            "{} added an ephemeral container ({image}) to pod {}",
            cx.who(),
            cx.target()
        ),
        None => format!(
            "{} added an ephemeral container to pod {}",
            cx.who(),
            cx.target()
        ),
    })
}

pub(super) fn credential_read(cx: &Cx<'_>) -> Option<String> {
    let cmd = cx.exec_command().filter(|_| !cx.routine())?;
    let path = command::credential_path(cmd)?;
    Some(format!(
        "{} ran `{}` in pod {}, reading {path}",
        cx.who(),
        shown(cx.exec_shown()),
        cx.target()
    ))
}

pub(super) fn metadata_service(cx: &Cx<'_>) -> Option<String> {
    let cmd = cx.exec_command().filter(|_| !cx.routine())?;
    let host = command::metadata_host(cmd)?;
    Some(format!(
        "{} ran `{}` in pod {}, reaching the metadata service {host}",
        cx.who(),
        shown(cx.exec_shown()),
        cx.target()
    ))
}

pub(super) fn copy_out(cx: &Cx<'_>) -> Option<String> {
    let cmd = cx.exec_command().filter(|_| !cx.routine())?;
    command::is_copy_out(cmd).then(|| {
        format!(
            "{} copied files out of pod {} (`{}`)",
            cx.who(),
            cx.target(),
            shown(cx.exec_shown())
        )
    })
}

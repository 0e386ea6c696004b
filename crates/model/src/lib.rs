/*!
The vocabulary every Palisade component shares.

# Brief overview

An [`Object`] is one Kubernetes resource as JSON with the place it came from and a line index,
so any field can be traced back to its line. A [`ControlMeta`] describes a check; a [`Finding`]
is one control failing on one object at one field. A [`ScanReport`] gathers findings, input
errors, exceptions and framework scores, and is what every output format renders.

```
use palisade_model::{Object, Positions, Source};
use serde_json::json;

let pod = Object::new(
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
    Source::file("pod.yaml", 1),
    Positions::default(),
);
assert_eq!(pod.kind(), "Pod");
assert_eq!(pod.containers().count(), 1);
```

This crate does no I/O and has almost no dependencies.
*/

mod control;
mod finding;
mod object;
mod pointer;
mod positions;
mod report;
mod severity;
mod workload;

pub use control::ControlMeta;
pub use finding::{Finding, Location, ObjectRef, Suppression};
pub use object::{Object, Source, is_cluster_scoped};
pub use pointer::{escape_token, lookup, pointer_hash};
pub use positions::Positions;
pub use report::{
    ExceptionNotice, FrameworkResult, InputError, RequirementResult, RequirementStatus,
    SCHEMA_VERSION, ScanReport, Summary, Tool,
};
pub use severity::Severity;
pub use workload::{ContainerKind, ContainerRef, PodSpecRef};

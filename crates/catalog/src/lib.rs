/*!
Palisade's built-in controls and the engine that runs them.

# Brief overview

A control is two halves: its metadata (id, title, severity, rationale, remediation,
references), kept as reviewed data in `data/controls/<group>.yaml` and compiled in, and its logic, a
[`Rule`] in `src/controls/<group>/`. [`catalog`] joins them once; [`evaluate`] runs a set of
controls over every object in parallel, with a [`Context`] that indexes all scanned objects
for cross-object checks (a pod no NetworkPolicy selects, a Service that selects nothing).

Every control has fixtures `tests/fixtures/<ID>/{fail,pass}.yaml`; a test fails the build if
one is missing or does not behave.

```
let catalog = palisade_catalog::catalog().unwrap();
let loaded = palisade_loader::load_text("pod.yaml",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: a, image: nginx, securityContext: {privileged: true}}\n");
let controls: Vec<_> = catalog.iter().collect();
let result = palisade_catalog::evaluate(&loaded.objects, &controls);
assert!(result.findings.iter().any(|f| &*f.control_id == "PAL-101" && f.location.line == 6));
```
*/

mod context;
mod controls;
mod engine;
mod hits;
mod registry;
pub mod util;

pub use context::Context;
pub use engine::{Evaluation, evaluate, evaluate_alone};
pub use hits::{Hit, Hits};
pub use registry::{Catalog, CatalogError, Control, Rule, Target, catalog};

/*!
The admission webhook: the scan's controls, users' policies and image rules enforced in the
API server's admission chain, and safe defaults filled in by a mutating endpoint.

# Brief overview

- [`images`]: image rules (allowed registries, tags, digests) for every container list.
- [`mutate`]: safe-default mutations as RFC 6902 JSON Patch, idempotent under reinvocation.
- [`manifests`]: the Kubernetes objects that install the webhook.
*/

pub mod images;
pub mod manifests;
pub mod mutate;

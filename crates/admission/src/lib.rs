/*!
The admission webhook: the scan's controls, users' policies and image rules enforced in the
API server's admission chain, and safe defaults filled in by a mutating endpoint.

# Brief overview

- [`config`]: the policy file (which controls and policies act, how, on what, exemptions).
- [`review`]: the AdmissionReview wire format, v1 and v1beta1.
- [`engine`]: one review in, one decision out.
- [`images`]: image rules (allowed registries, tags, digests) for every container list.
- [`mutate`]: safe-default mutations as RFC 6902 JSON Patch, idempotent under reinvocation.
- [`manifests`]: the Kubernetes objects that install the webhook.
- [`server`]: the HTTPS server, its routes, metrics and hot reload.
*/

pub mod config;
pub mod engine;
pub mod images;
pub mod manifests;
pub mod mutate;
pub mod review;
pub mod server;

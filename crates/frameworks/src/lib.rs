/*!
Compliance frameworks as data, mapped to Palisade controls, and their scoring.

# Brief overview

A [`Framework`] (CIS Kubernetes Benchmark, NSA/CISA hardening guide, Pod Security Standards,
SOC 2, PCI DSS, HIPAA, GDPR, NIST SP 800-53, MITRE ATT&CK for Containers) is a list of
[`Requirement`]s, each naming the controls whose findings are its evidence. Frameworks are
reviewed data in `data/<id>.yaml`, compiled in and parsed once by [`all`]. [`score`] turns the
findings of a scan into a status per requirement and a score per framework; the method is
documented in `docs/frameworks.md`.

```
use std::collections::BTreeMap;

let cis = palisade_frameworks::get("cis-1.12").unwrap().unwrap();
let ran: BTreeMap<String, usize> = [("PAL-101".to_string(), 3)].into();
let result = palisade_frameworks::score(cis, &[], &ran);
assert_eq!(result.id, "cis-1.12");
assert_eq!(result.requirements.len(), cis.requirements.len());
```
*/

mod data;
mod score;

pub use data::{Framework, FrameworkError, Requirement, all, get};
pub use score::{findings_per_control, score, score_counts};

//! PAL-201: volume types other than the core, pod-scoped ones.

use crate::controls::pss_baseline::support::set;
use crate::registry::{Rule, Target};
use crate::util::items;
use crate::{Context, Hits};
use palisade_model::Object;
use serde_json::Value;

pub const RULE: Rule = Rule {
    id: "PAL-201",
    target: Target::Workload,
    check,
};

/// Volume sources outside the allowed set (configMap, csi, downwardAPI, emptyDir, ephemeral,
/// image, persistentVolumeClaim, projected, secret). Fields the API does not know are not
/// listed: it drops them, and a volume left without a source becomes an emptyDir.
const RESTRICTED: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "portworxVolume",
    "photonPersistentDisk",
    "scaleIO",
    "storageos",
];

fn check(object: &Object, _: &Context<'_>, hits: &mut Hits) {
    let Some(pod) = object.pod_spec() else {
        return;
    };
    for (i, volume) in items(pod.get("volumes")) {
        let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
        for source in RESTRICTED {
            if set(Some(volume), source).is_some() {
                hits.push(
                    pod.field(&format!("volumes/{i}/{source}")),
                    format!("volume {name:?} uses the restricted volume type {source}"),
                );
            }
        }
    }
}

//! Rules, one folder per group; each group's metadata is `data/controls/<group>.yaml`.

pub mod general;
pub mod hardening;
pub mod images;
pub mod network;
pub mod pss_baseline;
pub mod pss_restricted;
pub mod rbac;
pub mod reliability;
pub mod secrets;

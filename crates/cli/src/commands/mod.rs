//! One module per subcommand.

pub mod admission;
pub mod audit;
mod cluster;
pub mod controls;
pub mod frameworks;
pub mod policy;
pub mod scan;

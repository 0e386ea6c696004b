//! One module per subcommand.

mod cluster;
pub mod controls;
pub mod frameworks;
pub mod policy;
pub mod scan;

//! KIS-compatible simulator.

pub mod model;

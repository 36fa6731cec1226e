//! KIS-compatible simulator.

//! The kiswatch domain without I/O.

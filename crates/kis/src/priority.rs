//! Who is waiting for a request slot: the governor serves interactive requests before background
//! ones, and the slot ledgers keep that order across processes and machines.

/// Who is waiting: a person looking at a page, or a background job (backfill, polling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Interactive = 0,
    Background = 1,
}

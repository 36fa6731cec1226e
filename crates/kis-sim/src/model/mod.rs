//! The simulated market: deterministic prices, history, executions and order books.

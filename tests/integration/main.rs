//! One integration binary (see Cargo.toml): the CLI end to end, the readers
//! against each other, and migfix's graphs against real Alembic's.

mod bad_input;
mod cli;
mod common;
mod fixtures;
mod merge_heads;
mod oracle;
mod readers;
mod renumber;
mod sqitch;

//! One integration binary (see Cargo.toml): the CLI end to end, the readers
//! against each other, and migfix's graphs against real Alembic's.

mod adversarial;
mod advice;
mod advice_alembic;
mod advice_django;
mod advice_repairs;
mod advice_sqitch;
mod architecture;
mod bad_input;
mod branches;
mod ci_formats;
mod cli;
mod common;
mod diagnose;
mod django;
mod fixtures;
mod fuzz_config;
mod gate;
mod journal;
mod later;
mod layouts;
mod merge_heads;
mod messages;
mod oracle;
mod postgres;
mod readers;
mod real_world;
mod recover;
mod renumber;
mod renumber_names;
mod secrets;
mod sizes;
mod sqitch;
mod sqitch_oracle;
mod sqitch_real;
mod strictness;

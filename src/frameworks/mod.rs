//! The frameworks migfix reads, one folder each behind one interface
//! ([`interface::Framework`]). Adding a framework is a folder here and one
//! line in [`FRAMEWORKS`].

pub(crate) mod alembic;
pub(crate) mod django;
pub(crate) mod interface;
pub(crate) mod sqitch;

use crate::chains::Kind;
use crate::config::{ChainSpec, Source};
pub(crate) use interface::Framework;

/// Every framework migfix reads.
pub(crate) static FRAMEWORKS: [&dyn Framework; 3] =
    [&alembic::Alembic, &sqitch::Sqitch, &django::Django];

/// The framework of a chain's source.
pub(crate) fn of(spec: &ChainSpec) -> &'static dyn Framework {
    let kind = match &spec.source {
        Source::Alembic(_) => Kind::Alembic,
        Source::Sqitch(_) => Kind::Sqitch,
        Source::Django(_) => Kind::Django,
    };
    FRAMEWORKS
        .iter()
        .copied()
        .find(|f| f.kind() == kind)
        .expect("every kind is registered")
}

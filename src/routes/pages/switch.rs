//! The lock switch: every strategy of the catalogue ([`Strategy::ALL`]),
//! grouped into safe and unsafe ones, the unavailable ones greyed out with
//! their reason; and the lesson box that explains the chosen one. Each option
//! carries its texts in `data-` attributes, so the page's script updates the
//! lesson box without asking the server.

use std::fmt;

use crate::lab::Availability;
use crate::lock::{Family, Strategy, StrategyInfo};

/// A heading of the switch. The groups appear in the order of their first
/// strategy in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockGroup {
    /// Not safe: no lock, one process's mutex, and the broken ones.
    Unsafe,
    /// Safe: a lock held in Redis (one node or a majority of several).
    SafeLock,
    /// Safe: Postgres alone guards the sale.
    SafeDatabase,
    /// Fast and safe: the stock leaves the one-buyer critical section.
    FastAndSafe,
}

impl LockGroup {
    pub fn of(info: &StrategyInfo) -> Self {
        if !info.safe {
            LockGroup::Unsafe
        } else if info.family == Family::Postgres {
            LockGroup::SafeDatabase
        } else if info.family == Family::Fast {
            LockGroup::FastAndSafe
        } else {
            LockGroup::SafeLock
        }
    }

    /// The group's `data-group`.
    pub fn slug(self) -> &'static str {
        match self {
            LockGroup::Unsafe => "unsafe",
            LockGroup::SafeLock => "safe-lock",
            LockGroup::SafeDatabase => "safe-database",
            LockGroup::FastAndSafe => "fast-and-safe",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            LockGroup::Unsafe => "Unsafe or broken",
            LockGroup::SafeLock => "Safe · a lock in Redis",
            LockGroup::SafeDatabase => "Safe · Postgres alone",
            LockGroup::FastAndSafe => "Fast and safe · a batch, or a gate and a queue",
        }
    }
}

/// What a strategy promises, as a badge: its CSS class and its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    Safe,
    Unsafe,
    Broken,
}

impl Safety {
    fn of(info: &StrategyInfo) -> Self {
        if info.family == Family::Broken {
            Safety::Broken
        } else if info.safe {
            Safety::Safe
        } else {
            Safety::Unsafe
        }
    }

    pub fn badge(self) -> &'static str {
        match self {
            Safety::Safe => "Safe",
            Safety::Unsafe => "Unsafe",
            Safety::Broken => "Broken on purpose",
        }
    }
}

impl fmt::Display for Safety {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Safety::Safe => "safe",
            Safety::Unsafe => "unsafe",
            Safety::Broken => "broken",
        })
    }
}

/// One radio button of the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockOption {
    pub value: &'static str,
    pub label: &'static str,
    pub lesson: &'static str,
    pub breaks_when: &'static str,
    pub safety: Safety,
    pub uses_ttl: bool,
    /// Whether it waits for a lock until a deadline (`deadline_ms`).
    pub uses_deadline: bool,
    pub checked: bool,
    /// Greyed out: the strategy cannot be used right now (and is not the
    /// chosen one, which stays selectable so that the form still names it
    /// and the service says why it cannot sell).
    pub disabled: bool,
    pub unavailable_reason: Option<String>,
}

pub struct OptionGroup {
    pub group: LockGroup,
    pub options: Vec<LockOption>,
}

pub struct LockSwitch {
    pub groups: Vec<OptionGroup>,
    /// The chosen strategy, for the lesson box.
    pub chosen: LockOption,
}

impl LockSwitch {
    /// The whole catalogue, each strategy with its `availability` (one not
    /// listed there counts as available), `chosen` checked.
    pub fn new(availability: &[(Strategy, Availability)], chosen: Strategy) -> Self {
        let mut groups: Vec<OptionGroup> = Vec::new();
        let mut chosen_option = None;
        for strategy in Strategy::ALL {
            let info = strategy.info();
            let reason = unavailable(availability, strategy);
            let checked = strategy == chosen;
            let option = LockOption {
                value: strategy.as_str(),
                label: info.label,
                lesson: info.lesson,
                breaks_when: info.breaks_when,
                safety: Safety::of(info),
                uses_ttl: info.uses_ttl,
                uses_deadline: strategy.uses_deadline(),
                checked,
                disabled: reason.is_some() && !checked,
                unavailable_reason: reason,
            };
            if checked {
                chosen_option = Some(option.clone());
            }
            let group = LockGroup::of(info);
            match groups.iter_mut().find(|g| g.group == group) {
                Some(existing) => existing.options.push(option),
                None => groups.push(OptionGroup {
                    group,
                    options: vec![option],
                }),
            }
        }
        Self {
            groups,
            chosen: chosen_option.expect("the chosen strategy is in the catalogue"),
        }
    }
}

/// Why `strategy` cannot run now (`None`: it can, or it is not listed).
fn unavailable(availability: &[(Strategy, Availability)], strategy: Strategy) -> Option<String> {
    availability
        .iter()
        .find(|(s, _)| *s == strategy)
        .filter(|(_, a)| !a.available)
        .map(|(_, a)| {
            a.unavailable_reason
                .clone()
                .unwrap_or_else(|| "not available right now".to_owned())
        })
}

/// The strategy a page opened without `lock=` starts on: `default`, unless
/// it cannot run now (a class would press *Flash crowd* on a dead lock and
/// read the refusals as the lesson) — then the first safe strategy of the
/// catalogue that can, else the first that can, with the sentence that says
/// so. One not listed in `availability` counts as available.
pub fn starting_strategy(
    availability: &[(Strategy, Availability)],
    default: Strategy,
) -> (Strategy, Option<String>) {
    let unavailable = |strategy: Strategy| unavailable(availability, strategy);
    let Some(reason) = unavailable(default) else {
        return (default, None);
    };
    let runnable = || {
        Strategy::ALL
            .into_iter()
            .filter(|s| unavailable(*s).is_none())
    };
    let Some(instead) = runnable()
        .find(|s| s.info().safe)
        .or_else(|| runnable().next())
    else {
        return (default, None);
    };
    (
        instead,
        Some(format!(
            "The default strategy, {default}, is unavailable ({reason}): {instead} is chosen instead."
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down(reason: &str) -> Availability {
        Availability {
            available: false,
            unavailable_reason: Some(reason.to_owned()),
        }
    }

    #[test]
    fn every_strategy_of_the_catalogue_is_in_exactly_one_group() {
        let switch = LockSwitch::new(&[], Strategy::Redis);

        let listed: Vec<_> = switch
            .groups
            .iter()
            .flat_map(|g| g.options.iter().map(|o| o.value))
            .collect();
        let mut catalogue: Vec<_> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
        let mut sorted = listed.clone();
        sorted.sort_unstable();
        catalogue.sort_unstable();
        assert_eq!(sorted, catalogue);
        for group in &switch.groups {
            for option in &group.options {
                let info = Strategy::parse(option.value).unwrap().info();
                assert_eq!(group.group, LockGroup::of(info), "{}", option.value);
            }
        }
    }

    #[test]
    fn safe_and_unsafe_strategies_are_apart_and_the_broken_ones_are_unsafe() {
        assert_eq!(LockGroup::of(Strategy::None.info()), LockGroup::Unsafe);
        assert_eq!(LockGroup::of(Strategy::Local.info()), LockGroup::Unsafe);
        assert_eq!(
            LockGroup::of(Strategy::BrokenLuaNil.info()),
            LockGroup::Unsafe
        );
        assert_eq!(LockGroup::of(Strategy::Redis.info()), LockGroup::SafeLock);
        assert_eq!(LockGroup::of(Strategy::Redlock.info()), LockGroup::SafeLock);
        assert_eq!(
            LockGroup::of(Strategy::PgAtomic.info()),
            LockGroup::SafeDatabase
        );
        assert_eq!(Safety::of(Strategy::BrokenGetDel.info()), Safety::Broken);
        assert_eq!(Safety::of(Strategy::Local.info()), Safety::Unsafe);
        assert_eq!(Safety::of(Strategy::PgRowLock.info()), Safety::Safe);
    }

    #[test]
    fn an_unavailable_default_gives_way_to_the_first_safe_strategy_that_can_run() {
        assert_eq!(
            starting_strategy(&[], Strategy::Redis),
            (Strategy::Redis, None)
        );
        let redis_down: Vec<_> = Strategy::ALL
            .into_iter()
            .filter(|s| s.info().needs != crate::lock::Needs::Nothing)
            .map(|s| (s, down("Redis does not answer")))
            .collect();
        let (instead, why) = starting_strategy(&redis_down, Strategy::Redis);
        assert_eq!(instead, Strategy::PgAtomic);
        assert_eq!(
            why.as_deref(),
            Some(
                "The default strategy, redis, is unavailable (Redis does not answer): \
                 pg-atomic is chosen instead."
            )
        );
        // Nothing can run: the default stays, and the service says why.
        let all_down: Vec<_> = Strategy::ALL.into_iter().map(|s| (s, down("x"))).collect();
        assert_eq!(
            starting_strategy(&all_down, Strategy::Redis),
            (Strategy::Redis, None)
        );
    }

    #[test]
    fn an_unavailable_strategy_is_disabled_with_its_reason_unless_chosen() {
        let availability = [(Strategy::Redlock, down("2 of 3 nodes are down"))];

        let switch = LockSwitch::new(&availability, Strategy::None);
        let redlock = switch
            .groups
            .iter()
            .flat_map(|g| &g.options)
            .find(|o| o.value == "redlock")
            .unwrap();
        assert!(redlock.disabled);
        assert_eq!(
            redlock.unavailable_reason.as_deref(),
            Some("2 of 3 nodes are down")
        );
        assert_eq!(switch.chosen.value, "none");
        assert!(switch.chosen.checked && !switch.chosen.disabled);

        let chosen = LockSwitch::new(&availability, Strategy::Redlock).chosen;
        assert!(chosen.checked && !chosen.disabled);
        assert!(chosen.unavailable_reason.is_some());
    }
}

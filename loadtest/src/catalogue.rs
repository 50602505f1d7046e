//! The service's catalogue of lock strategies (`GET /api/strategies`), and
//! what `--modes all` and `--expect-safe safe` become with it. The service
//! is the one list of strategies: the generator keeps none of its own.

use serde::{Deserialize, Serialize};

/// `--modes all`: every strategy the catalogue lists as available.
pub const ALL: &str = "all";
/// `--expect-safe safe`: every strategy run that the catalogue marks safe.
pub const SAFE: &str = "safe";

/// One entry of `GET /api/strategies`. Only `name` is required, so a newer
/// service's entry with more (or fewer) fields still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// The `lock=` value.
    pub name: String,
    #[serde(default)]
    pub label: String,
    /// `none`, `redis`, `redlock`, `local`, `postgres` or `broken`.
    #[serde(default)]
    pub family: String,
    /// Safe on several instances when the work fits the TTL.
    #[serde(default)]
    pub safe: bool,
    #[serde(default)]
    pub lesson: String,
    #[serde(default)]
    pub breaks_when: String,
    /// `nothing`, `redis` or `redlock_nodes`.
    #[serde(default)]
    pub needs: String,
    #[serde(default)]
    pub uses_ttl: bool,
    #[serde(default = "yes")]
    pub available: bool,
    #[serde(default)]
    pub unavailable_reason: Option<String>,
    /// The strategy of a purchase that names none.
    #[serde(default)]
    pub default: bool,
}

fn yes() -> bool {
    true
}

impl Strategy {
    fn reason(&self) -> &str {
        self.unavailable_reason
            .as_deref()
            .unwrap_or("the service gives no reason")
    }
}

/// The catalogue as read from one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// The instance it was read from, for messages.
    pub url: String,
    pub strategies: Vec<Strategy>,
}

impl Catalogue {
    pub fn get(&self, name: &str) -> Option<&Strategy> {
        self.strategies.iter().find(|s| s.name == name)
    }
}

/// The modes a run sends crowds with, and the ones `--modes all` left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    pub modes: Vec<String>,
    pub skipped: Vec<SkippedMode>,
}

/// Turns `--modes` into the modes to run, in order and without duplicates:
/// `all` becomes every available strategy in catalogue order (the others are
/// skipped, with their reason); a named mode the catalogue lists as
/// unavailable is an error; a named mode it does not list is kept, for the
/// service's answer to the probe to decide (an older service has no
/// catalogue at all: `catalogue` is `None`).
pub fn select_modes(
    requested: &[String],
    catalogue: Option<&Catalogue>,
    url: &str,
) -> Result<Selection, String> {
    let mut selection = Selection::default();
    let add = |modes: &mut Vec<String>, mode: &str| {
        if !modes.iter().any(|m| m == mode) {
            modes.push(mode.to_string());
        }
    };
    for mode in requested {
        if mode == ALL {
            let catalogue = catalogue.ok_or_else(|| no_catalogue("--modes all", url))?;
            for strategy in &catalogue.strategies {
                if strategy.available {
                    add(&mut selection.modes, &strategy.name);
                } else if !selection.skipped.iter().any(|s| s.mode == strategy.name) {
                    selection.skipped.push(SkippedMode {
                        mode: strategy.name.clone(),
                        reason: strategy.reason().to_string(),
                    });
                }
            }
            continue;
        }
        if let Some(strategy) = catalogue.and_then(|c| c.get(mode))
            && !strategy.available
        {
            return Err(format!(
                "lock={mode} is not available at {url}: {}",
                strategy.reason()
            ));
        }
        add(&mut selection.modes, mode);
    }
    // A strategy skipped by `all` but named as well was refused above.
    Ok(selection)
}

/// Turns `--expect-safe` into the modes that must be safe: `safe` becomes
/// every mode run that the catalogue marks safe (in run order); names are
/// kept as given.
pub fn expected_safe(
    requested: &[String],
    modes: &[String],
    catalogue: Option<&Catalogue>,
    url: &str,
) -> Result<Vec<String>, String> {
    let mut expected: Vec<String> = Vec::new();
    for name in requested {
        let names: Vec<&str> = if name == SAFE {
            let catalogue = catalogue.ok_or_else(|| no_catalogue("--expect-safe safe", url))?;
            modes
                .iter()
                .filter(|m| catalogue.get(m).is_some_and(|s| s.safe))
                .map(String::as_str)
                .collect()
        } else {
            vec![name.as_str()]
        };
        for name in names {
            if !expected.iter().any(|e| e == name) {
                expected.push(name.to_string());
            }
        }
    }
    Ok(expected)
}

fn no_catalogue(what: &str, url: &str) -> String {
    format!(
        "{what} needs the service's catalogue of strategies, and {url} has none \
         (GET /api/strategies answered 404: an older flashsale); name the modes instead"
    )
}

/// The one line `--modes all` says on stderr about what it left out.
pub fn skipped_note(skipped: &[SkippedMode]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    let list: Vec<String> = skipped
        .iter()
        .map(|s| format!("{} ({})", s.mode, s.reason))
        .collect();
    Some(format!(
        "note: --modes all skipped {} unavailable: {}",
        if skipped.len() == 1 {
            "1 strategy".to_string()
        } else {
            format!("{} strategies", skipped.len())
        },
        list.join("; ")
    ))
}

/// A strategy that was not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedMode {
    pub mode: String,
    /// The catalogue's `unavailable_reason`.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:8080";

    fn strategy(name: &str, safe: bool, unavailable: Option<&str>) -> Strategy {
        Strategy {
            name: name.into(),
            label: String::new(),
            family: String::new(),
            safe,
            lesson: String::new(),
            breaks_when: String::new(),
            needs: String::new(),
            uses_ttl: false,
            available: unavailable.is_none(),
            unavailable_reason: unavailable.map(String::from),
            default: false,
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue {
            url: URL.into(),
            strategies: vec![
                strategy("none", false, None),
                strategy("redis", true, None),
                strategy("redlock", true, Some("no Redlock nodes are configured")),
                strategy("local", false, None),
                strategy("pg-atomic", true, None),
            ],
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn all_is_every_available_strategy_in_catalogue_order_and_names_the_rest() {
        let selection = select_modes(&names(&["all"]), Some(&catalogue()), URL).unwrap();

        assert_eq!(selection.modes, ["none", "redis", "local", "pg-atomic"]);
        assert_eq!(
            selection.skipped,
            [SkippedMode {
                mode: "redlock".into(),
                reason: "no Redlock nodes are configured".into()
            }]
        );
        assert_eq!(
            skipped_note(&selection.skipped).unwrap(),
            "note: --modes all skipped 1 strategy unavailable: redlock (no Redlock nodes are configured)"
        );
    }

    #[test]
    fn named_modes_keep_their_order_and_all_adds_only_what_is_missing() {
        let selection = select_modes(
            &names(&["pg-atomic", "all", "none"]),
            Some(&catalogue()),
            URL,
        )
        .unwrap();
        assert_eq!(selection.modes, ["pg-atomic", "none", "redis", "local"]);
    }

    #[test]
    fn a_named_mode_the_catalogue_lists_as_unavailable_is_an_error() {
        let error =
            select_modes(&names(&["none", "redlock"]), Some(&catalogue()), URL).unwrap_err();
        assert_eq!(
            error,
            "lock=redlock is not available at http://127.0.0.1:8080: no Redlock nodes are configured"
        );
    }

    #[test]
    fn a_mode_the_catalogue_does_not_list_is_left_to_the_service() {
        let selection = select_modes(&names(&["zookeeper"]), Some(&catalogue()), URL).unwrap();
        assert_eq!(selection.modes, ["zookeeper"]);
        let selection = select_modes(&names(&["none", "redis"]), None, URL).unwrap();
        assert_eq!(selection.modes, ["none", "redis"]);
    }

    #[test]
    fn all_and_safe_need_a_catalogue() {
        let error = select_modes(&names(&["all"]), None, URL).unwrap_err();
        assert!(
            error.starts_with("--modes all needs the service's catalogue"),
            "{error}"
        );
        let error = expected_safe(&names(&["safe"]), &names(&["redis"]), None, URL).unwrap_err();
        assert!(error.starts_with("--expect-safe safe needs"), "{error}");
    }

    #[test]
    fn safe_is_every_mode_run_that_the_catalogue_marks_safe() {
        let run = names(&["none", "local", "pg-atomic", "redis"]);

        let expected = expected_safe(&names(&["safe"]), &run, Some(&catalogue()), URL).unwrap();
        assert_eq!(expected, ["pg-atomic", "redis"]);

        let expected =
            expected_safe(&names(&["local", "safe"]), &run, Some(&catalogue()), URL).unwrap();
        assert_eq!(expected, ["local", "pg-atomic", "redis"]);

        let expected = expected_safe(&names(&["redis"]), &run, None, URL).unwrap();
        assert_eq!(expected, ["redis"]);
    }

    #[test]
    fn an_entry_of_the_service_reads_and_missing_fields_have_defaults() {
        let json = r#"[{"name":"redlock","label":"Redlock","family":"redlock","safe":true,
            "lesson":"l","breaks_when":"b","needs":"redlock_nodes","uses_ttl":true,
            "available":false,"unavailable_reason":"0 of 3 nodes answer","default":false},
            {"name":"future","extra":1}]"#;
        let entries: Vec<Strategy> = serde_json::from_str(json).unwrap();
        assert!(!entries[0].available && entries[0].safe);
        assert_eq!(entries[0].reason(), "0 of 3 nodes answer");
        assert!(entries[1].available && !entries[1].safe);
    }
}

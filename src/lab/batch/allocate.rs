//! Who in a batch gets a unit: the batch's buyers in arrival order, against
//! the stock and the buyers' counts read under the row lock. Pure, so the
//! rules are tested without a database.

use std::collections::HashMap;

/// One buyer of a batch, as the allocation sees it.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub buyer: Option<&'a str>,
    /// The limit per buyer is counted in the sale's write
    /// (`duplicate_check=key`); with `count` the check ran before the sale.
    pub counted: bool,
}

/// What one buyer of a batch gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A unit; the stock its unit left.
    Served {
        remaining: i64,
    },
    SoldOut,
    LimitReached,
    UserRequired,
}

/// The verdicts, one per claim, in arrival order: a buyer is refused as in
/// the one-buyer strategies — sold out first (no unit left), then its limit
/// (no buyer named, or the units it has, before and earlier in this batch).
pub fn allocate(
    stock: i64,
    per_buyer: Option<i32>,
    bought: &HashMap<String, i32>,
    claims: &[Claim<'_>],
) -> Vec<Verdict> {
    let mut left = stock;
    let mut taken: HashMap<&str, i32> = HashMap::new();
    claims
        .iter()
        .map(|claim| {
            if left <= 0 {
                return Verdict::SoldOut;
            }
            if let (Some(cap), true) = (per_buyer, claim.counted) {
                let Some(buyer) = claim.buyer else {
                    return Verdict::UserRequired;
                };
                let units = taken.entry(buyer).or_default();
                if bought.get(buyer).copied().unwrap_or(0) + *units >= cap {
                    return Verdict::LimitReached;
                }
                *units += 1;
            }
            left -= 1;
            Verdict::Served { remaining: left }
        })
        .collect()
}

/// The units each named buyer takes in this batch, for one upsert of
/// `buyer_counts` per buyer (a buyer twice in one `INSERT … ON CONFLICT DO
/// UPDATE` is an error: "cannot affect row a second time").
pub fn units_per_buyer<'a>(claims: &[Claim<'a>], verdicts: &[Verdict]) -> (Vec<&'a str>, Vec<i32>) {
    let mut units: Vec<(&str, i32)> = Vec::new();
    for (claim, verdict) in claims.iter().zip(verdicts) {
        let (Verdict::Served { .. }, true, Some(buyer)) = (verdict, claim.counted, claim.buyer)
        else {
            continue;
        };
        match units.iter_mut().find(|(name, _)| *name == buyer) {
            Some((_, n)) => *n += 1,
            None => units.push((buyer, 1)),
        }
    }
    units.into_iter().unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anyone(n: usize) -> Vec<Claim<'static>> {
        vec![
            Claim {
                buyer: None,
                counted: true,
            };
            n
        ]
    }

    fn named(names: &[&'static str]) -> Vec<Claim<'static>> {
        names
            .iter()
            .map(|name| Claim {
                buyer: Some(name),
                counted: true,
            })
            .collect()
    }

    #[test]
    fn the_first_buyers_get_the_units_left_and_the_rest_are_sold_out() {
        let verdicts = allocate(2, None, &HashMap::new(), &anyone(4));
        assert_eq!(
            verdicts,
            [
                Verdict::Served { remaining: 1 },
                Verdict::Served { remaining: 0 },
                Verdict::SoldOut,
                Verdict::SoldOut
            ]
        );
    }

    #[test]
    fn nothing_left_sells_nothing() {
        let verdicts = allocate(0, None, &HashMap::new(), &anyone(2));
        assert_eq!(verdicts, [Verdict::SoldOut, Verdict::SoldOut]);
    }

    #[test]
    fn a_buyer_past_its_limit_is_refused_and_leaves_the_unit_to_the_next() {
        let bought = HashMap::from([("ann".to_owned(), 1)]);
        let claims = named(&["ann", "bob", "ann", "bob", "bob", "cid"]);
        let verdicts = allocate(10, Some(2), &bought, &claims);
        assert_eq!(
            verdicts,
            [
                Verdict::Served { remaining: 9 },
                Verdict::Served { remaining: 8 },
                Verdict::LimitReached,
                Verdict::Served { remaining: 7 },
                Verdict::LimitReached,
                Verdict::Served { remaining: 6 },
            ]
        );
        let (buyers, units) = units_per_buyer(&claims, &verdicts);
        assert_eq!(buyers, ["ann", "bob", "cid"]);
        assert_eq!(units, [1, 2, 1]);
    }

    #[test]
    fn a_limited_product_needs_a_buyer_but_sold_out_comes_first() {
        let verdicts = allocate(1, Some(1), &HashMap::new(), &anyone(1));
        assert_eq!(verdicts, [Verdict::UserRequired]);
        let verdicts = allocate(0, Some(1), &HashMap::new(), &anyone(1));
        assert_eq!(verdicts, [Verdict::SoldOut]);
    }

    #[test]
    fn the_naive_count_check_is_not_counted_in_the_write() {
        let claims = [Claim {
            buyer: Some("ann"),
            counted: false,
        }; 3];
        let verdicts = allocate(5, Some(1), &HashMap::new(), &claims);
        assert!(verdicts.iter().all(|v| matches!(v, Verdict::Served { .. })));
        let (buyers, _) = units_per_buyer(&claims, &verdicts);
        assert!(buyers.is_empty());
    }
}

//! Whether the service's listen queue overflowed during a crowd: Linux
//! counts SYNs and handshakes a full accept queue turned away in
//! `TcpExt: ListenOverflows ListenDrops` of `/proc/net/netstat`. The counters
//! are the whole machine's, so they speak of the service only when every
//! target is on loopback; elsewhere, and off Linux, nothing is said.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::http::Target;

/// The machine's listen-queue counters at one moment, or their rise over a
/// crowd.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenQueue {
    /// A connection arrived at a full accept queue.
    pub overflows: u64,
    /// A connection was dropped while being set up (overflows included).
    pub drops: u64,
}

impl ListenQueue {
    /// The counters now, when every target is on loopback and the platform
    /// has them.
    pub fn read(targets: &[Target]) -> Option<ListenQueue> {
        if !targets.iter().all(is_loopback) {
            return None;
        }
        parse(&std::fs::read_to_string("/proc/net/netstat").ok()?)
    }

    /// The rise from `before` to these.
    pub fn since(&self, before: &ListenQueue) -> ListenQueue {
        ListenQueue {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
        }
    }
}

/// `localhost`, or a loopback address.
pub fn is_loopback(target: &Target) -> bool {
    target.host().eq_ignore_ascii_case("localhost")
        || target
            .host()
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads `ListenOverflows` and `ListenDrops` from the text of
/// `/proc/net/netstat`: a `TcpExt:` line of names followed by one of values.
pub fn parse(netstat: &str) -> Option<ListenQueue> {
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = lines.next()?.split_whitespace();
    let values = lines.next()?.split_whitespace();
    let (mut overflows, mut drops) = (None, None);
    for (name, value) in names.zip(values).skip(1) {
        match name {
            "ListenOverflows" => overflows = value.parse().ok(),
            "ListenDrops" => drops = value.parse().ok(),
            _ => {}
        }
    }
    Some(ListenQueue {
        overflows: overflows?,
        drops: drops?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first lines of a Linux 6.x `/proc/net/netstat`, shortened.
    const NETSTAT: &str = "\
TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts DelayedACKLost ListenOverflows ListenDrops TCPHPHits
TcpExt: 0 0 0 0 10 63 65 718
IpExt: InNoRoutes InTruncatedPkts InMcastPkts
IpExt: 0 0 12
";

    #[test]
    fn the_listen_counters_are_read_by_name_from_the_tcpext_lines() {
        assert_eq!(
            parse(NETSTAT),
            Some(ListenQueue {
                overflows: 63,
                drops: 65
            })
        );
    }

    #[test]
    fn a_netstat_without_the_counters_says_nothing() {
        assert_eq!(parse("IpExt: InNoRoutes\nIpExt: 0\n"), None);
        assert_eq!(
            parse("TcpExt: SyncookiesSent ListenDrops\nTcpExt: 0 4\n"),
            None
        );
        assert_eq!(parse(""), None);
    }

    #[test]
    fn the_rise_over_a_crowd_is_after_minus_before() {
        let before = parse(NETSTAT).unwrap();
        let after = ListenQueue {
            overflows: 126,
            drops: 128,
        };
        assert_eq!(
            after.since(&before),
            ListenQueue {
                overflows: 63,
                drops: 63
            }
        );
    }

    #[test]
    fn only_loopback_targets_are_on_this_machine_for_sure() {
        let loopback = |url: &str| is_loopback(&Target::parse(url).unwrap());
        assert!(loopback("http://127.0.0.1:8080"));
        assert!(loopback("http://localhost:8080"));
        assert!(loopback("http://[::1]:8080"));
        assert!(!loopback("http://10.0.0.7:8080"));
        assert!(!loopback("http://shop.example"));
    }
}

//! Who the client is and how it reached this service, as far as it can
//! tell: the peer's address and the connection's own scheme — unless the
//! peer is one of `TRUSTED_PROXIES`, whose `X-Forwarded-For` and
//! `X-Forwarded-Proto` are then believed. From any other peer those headers
//! are the client's own words, and a client could pick a fresh address for
//! every request to slip past the rate limits.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use actix_web::http::header::HeaderName;

use crate::configuration::TrustedProxies;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The client's address, the key of the per-client rate limits; `None`
/// when the connection has no peer address (a test harness, not TCP).
pub fn address(request: &HttpRequest, proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let headers = request.headers().get_all(X_FORWARDED_FOR);
    let hops: Vec<&str> = headers
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    Some(forwarded_for(proxies, peer, &hops))
}

/// Whether the page reached the client over TLS: this server's own TLS, or a
/// trusted proxy's word. Decides the cookies' `Secure` flag.
pub fn is_https(request: &HttpRequest, proxies: &TrustedProxies) -> bool {
    if request.app_config().secure() {
        return true;
    }
    let Some(peer) = request.peer_addr() else {
        return false;
    };
    let proto = request
        .headers()
        .get_all(X_FORWARDED_PROTO)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .last();
    forwarded_https(proxies, peer.ip(), proto)
}

/// The client behind `peer`: walking `X-Forwarded-For` from the right (each
/// proxy appends the address it saw), every hop a trusted proxy reports is
/// believed, and the first address that is not a trusted proxy is the
/// client. An entry that is no address stops the walk at the last believed
/// one.
pub fn forwarded_for(proxies: &TrustedProxies, peer: IpAddr, hops: &[&str]) -> IpAddr {
    let mut client = peer.to_canonical();
    for hop in hops.iter().rev() {
        if !proxies.contains(client) {
            break;
        }
        match parse_hop(hop) {
            Some(address) => client = address,
            None => break,
        }
    }
    client
}

/// `https` as the last `X-Forwarded-Proto` value (the one the peer itself
/// set), believed from a trusted proxy only.
pub fn forwarded_https(proxies: &TrustedProxies, peer: IpAddr, proto: Option<&str>) -> bool {
    proxies.contains(peer) && proto.is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// `203.0.113.7`, `2001:db8::1`, and with a port (`203.0.113.7:4711`,
/// `[2001:db8::1]:4711`), as proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(cidrs: &[&str]) -> TrustedProxies {
        TrustedProxies(cidrs.iter().map(|cidr| cidr.parse().unwrap()).collect())
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = proxies(&[]);
        let other = proxies(&["10.0.0.0/8"]);
        for trusted in [&none, &other] {
            assert_eq!(
                forwarded_for(trusted, ip("198.51.100.9"), &["203.0.113.7"]),
                ip("198.51.100.9")
            );
            assert!(!forwarded_https(trusted, ip("198.51.100.9"), Some("https")));
        }
    }

    #[test]
    fn a_trusted_proxy_is_believed_up_to_the_first_address_that_is_not_a_proxy() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.1/32"]);
        let peer = ip("10.1.2.3");

        assert_eq!(
            forwarded_for(&trusted, peer, &["203.0.113.7"]),
            ip("203.0.113.7")
        );
        // A client that writes its own X-Forwarded-For: the proxy appends
        // what it saw, and that is where the walk stops.
        assert_eq!(
            forwarded_for(
                &trusted,
                peer,
                &["1.1.1.1", " 198.51.100.9", " 192.0.2.1", " 10.9.9.9"]
            ),
            ip("198.51.100.9")
        );
        assert_eq!(
            forwarded_for(&trusted, peer, &["[2001:db8::1]:4711"]),
            ip("2001:db8::1")
        );
        assert_eq!(
            forwarded_for(&trusted, peer, &["203.0.113.7:4711"]),
            ip("203.0.113.7")
        );
        // Nothing forwarded, or nothing readable: the proxy itself.
        assert_eq!(forwarded_for(&trusted, peer, &[]), peer);
        assert_eq!(
            forwarded_for(&trusted, peer, &["203.0.113.7", "unknown"]),
            peer
        );
        assert!(forwarded_https(&trusted, peer, Some(" HTTPS")));
        assert!(!forwarded_https(&trusted, peer, Some("http")));
        assert!(!forwarded_https(&trusted, peer, None));
    }

    #[test]
    fn an_ipv4_peer_on_an_ipv6_socket_is_matched_as_ipv4() {
        let trusted = proxies(&["127.0.0.1/32"]);
        assert_eq!(
            forwarded_for(&trusted, ip("::ffff:127.0.0.1"), &["203.0.113.7"]),
            ip("203.0.113.7")
        );
    }
}

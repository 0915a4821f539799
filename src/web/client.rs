//! Who is on the other end of a request: the client's address, and the scheme the reader
//! used, as far as they can be trusted.
//!
//! The TCP peer is the client, unless it is one of the reverse proxies the operator listed
//! (`--trust-proxy`): then, and only then, `X-Forwarded-For` names the client (read from the
//! right, skipping the listed proxies, since anything to the left of the last trusted hop was
//! written by the client itself) and `X-Forwarded-Proto` the scheme. Without a list those
//! headers are ignored: anyone can send them.
//!
//! The address is used in memory only (rate limits, the admin lockout); it is never stored.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use super::AppState;

/// The reverse proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.7`, `::1`) and networks (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in items {
            let item = item.as_ref().trim();
            if item.is_empty() {
                continue;
            }
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "`--trust-proxy {item}` is not an IP address or network (10.0.0.7, 10.0.0.0/8, fd00::/8)"
                    )
                })?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) is
/// the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The client of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the TCP peer, or what a trusted proxy says.
    pub addr: Option<IpAddr>,
    /// Whether a trusted proxy says the reader used HTTPS.
    pub https: bool,
}

impl Client {
    /// Works the client out from the TCP peer and the request's headers.
    pub fn of(peer: Option<IpAddr>, headers: &HeaderMap, proxies: &TrustedProxies) -> Client {
        let Some(peer) = peer.map(canonical) else {
            return Client {
                addr: None,
                https: false,
            };
        };
        if !proxies.contains(peer) {
            return Client {
                addr: Some(peer),
                https: false,
            };
        }
        // Several X-Forwarded-For headers read as one list, in order.
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|h| parse_hop(h.trim()))
            .collect();
        let addr = hops
            .iter()
            .rev()
            .copied()
            .map(canonical)
            .find(|ip| !proxies.contains(*ip))
            .or(hops.first().copied().map(canonical))
            .unwrap_or(peer);
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        Client {
            addr: Some(addr),
            https,
        }
    }

    /// The key of this client's rate-limit buckets: the address, or for IPv6 its /64 (one
    /// household or machine gets a whole /64, so single addresses cost nothing to change).
    pub fn key(&self) -> String {
        self.addr
            .map_or_else(|| "unknown".to_string(), Client::bucket)
    }

    /// The bucket an address falls in: the address, or for IPv6 its /64.
    pub fn bucket(ip: IpAddr) -> String {
        match canonical(ip) {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let net = ipnet::Ipv6Net::new(v6, 64)
                    .map(|n| n.trunc())
                    .unwrap_or_else(|_| v6.into());
                net.to_string()
            }
        }
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    hop.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// Middleware: works out the [`Client`] once and leaves it in the request's extensions.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = Client::of(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(client);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match parts.extensions.get::<Client>() {
            Some(c) => *c,
            // Outside the middleware (a test calling a handler), the peer is all there is.
            None => Client {
                addr: parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| canonical(c.0.ip())),
                https: false,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let c = Client::of(Some(ip("203.0.113.9")), &forwarded(&["1.2.3.4"]), &none);
        assert_eq!(c.addr, Some(ip("203.0.113.9")));
        assert!(!c.https);

        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "::1"]).unwrap();
        let c = Client::of(Some(ip("203.0.113.9")), &forwarded(&["1.2.3.4"]), &proxies);
        assert_eq!(c.addr, Some(ip("203.0.113.9")), "not from a listed proxy");
        let c = Client::of(Some(ip("10.1.2.3")), &forwarded(&["1.2.3.4"]), &proxies);
        assert_eq!(c.addr, Some(ip("1.2.3.4")));
        assert!(c.https);
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        // The client wrote "6.6.6.6" itself; the proxies appended the rest.
        let h = forwarded(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        let c = Client::of(Some(ip("10.0.0.1")), &h, &proxies);
        assert_eq!(c.addr, Some(ip("198.51.100.7")));
        // Only proxies in the chain: the first hop.
        let c = Client::of(Some(ip("10.0.0.1")), &forwarded(&["10.0.0.5"]), &proxies);
        assert_eq!(c.addr, Some(ip("10.0.0.5")));
        // No header: the proxy itself.
        let c = Client::of(Some(ip("10.0.0.1")), &HeaderMap::new(), &proxies);
        assert_eq!(c.addr, Some(ip("10.0.0.1")));
        // Ports and junk.
        let c = Client::of(
            Some(ip("10.0.0.1")),
            &forwarded(&["[2001:db8::1]:443, unknown"]),
            &proxies,
        );
        assert_eq!(c.addr, Some(ip("2001:db8::1")));
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64() {
        let a = Client {
            addr: Some(ip("2001:db8:1:2:aaaa::1")),
            https: false,
        };
        let b = Client {
            addr: Some(ip("2001:db8:1:2:bbbb::2")),
            https: false,
        };
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), "2001:db8:1:2::/64");
        let mapped = Client::of(
            Some(ip("::ffff:192.0.2.1")),
            &HeaderMap::new(),
            &TrustedProxies::default(),
        );
        assert_eq!(mapped.key(), "192.0.2.1");
    }

    #[test]
    fn bad_proxy_lists_say_what_is_wrong() {
        let e = TrustedProxies::parse(&["10.0.0.0/33"]).unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
        assert!(TrustedProxies::parse(&["proxy.local"]).is_err());
    }
}

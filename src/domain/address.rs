//! The client address that the per-address limits count (contract v3, "The client
//! address"), and the networks an operator trusts to tell it (`trusted_proxies`).
//!
//! Spin copies the client's header fields into the request and then appends its own
//! `spin-client-addr`, taken from the TCP connection: the **last** value is the only one a
//! client cannot forge. Behind a trusted proxy the connection is the proxy's, and the
//! client is the right-most `X-Forwarded-For` address that is not itself a trusted proxy:
//! everything left of that could have been written by the client.
//!
//! Addresses are parsed by `std::net`, never by hand. IPv6 clients are counted per /64 (a
//! client normally holds a whole /64, and could rotate through it), IPv4 per address, and
//! an IPv4-mapped IPv6 address as the IPv4 address it maps.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// An address from a header element: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
/// `[2001:db8::1]:443` or `[2001:db8::1]`, with an IPv4-mapped IPv6 address read as IPv4.
pub fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim_matches([' ', '\t']);
    let ip = match text.parse::<SocketAddr>() {
        Ok(socket) => socket.ip(),
        Err(_) => match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(inner) => IpAddr::V6(inner.parse().ok()?),
            None => text.parse().ok()?,
        },
    };
    Some(ip.to_canonical())
}

/// A network: an address and how many of its leading bits are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// `203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32`, `::ffff:10.0.0.0/104` (a mapped
    /// range is read as the IPv4 range it maps). `None` for anything else, including a
    /// prefix longer than the address.
    pub fn parse(text: &str) -> Option<Network> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().ok()?;
        let width = max_prefix(address);
        let prefix = match prefix {
            None => width,
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse::<u8>().ok().filter(|p| *p <= width)?
            }
            Some(_) => return None,
        };
        // A mapped range covers IPv4 addresses: compare it as one.
        match (address, address.to_canonical()) {
            (IpAddr::V6(_), IpAddr::V4(v4)) if prefix >= 96 => Some(Network {
                address: IpAddr::V4(v4),
                prefix: prefix - 96,
            }),
            _ => Some(Network { address, prefix }),
        }
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn max_prefix(address: IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let whole = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// The proxies an operator trusts to report the client in `X-Forwarded-For`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR ranges; empty (or blank) trusts
    /// nobody. Any element that is not one is an error naming it.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        let mut networks = Vec::new();
        for element in text.split(',').map(str::trim) {
            if element.is_empty() {
                continue;
            }
            let network = Network::parse(element)
                .ok_or_else(|| format!("{element:?} is not an IP address or CIDR range"))?;
            networks.push(network);
        }
        Ok(TrustedProxies(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(address))
    }

    /// The client behind the connection from `peer`. `forwarded` is every
    /// `X-Forwarded-For` field, in the order received; it counts only when `peer` is a
    /// trusted proxy. Walking it from the right, trusted hops are skipped, and the first
    /// address that is not trusted is the client; an element that is not an address
    /// ends the walk at the hop that passed it on (whoever wrote it cannot be trusted to
    /// name anyone), and so does the start of the header.
    pub fn client(&self, peer: IpAddr, forwarded: &[&[u8]]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let elements = forwarded
            .iter()
            .rev()
            .flat_map(|field| field.rsplit(|b| *b == b','));
        for element in elements {
            let Some(address) = std::str::from_utf8(element).ok().and_then(parse_address) else {
                // Empty list elements are allowed (RFC 9110 §5.6.1) and name nobody.
                if element.iter().all(|b| matches!(b, b' ' | b'\t')) {
                    continue;
                }
                return client;
            };
            client = address;
            if !self.trusts(address) {
                return address;
            }
        }
        client
    }
}

/// The text under which an address is counted: an IPv4 address as itself, an IPv6
/// address as its /64 (`2001:db8:0:1::/64`).
pub fn counting_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let network = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{network}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(text: &str) -> TrustedProxies {
        TrustedProxies::parse(text).unwrap()
    }

    #[test]
    fn addresses_come_with_or_without_a_port() {
        assert_eq!(parse_address("127.0.0.1:54321"), Some(ip("127.0.0.1")));
        assert_eq!(parse_address(" 10.0.0.7 "), Some(ip("10.0.0.7")));
        assert_eq!(parse_address("[::1]:443"), Some(ip("::1")));
        assert_eq!(parse_address("[2001:DB8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(parse_address("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(
            parse_address("[::ffff:192.0.2.9]:80"),
            Some(ip("192.0.2.9"))
        );
        for bad in [
            "",
            "[]:80",
            "localhost",
            "1.2.3",
            "1.2.3.4:",
            "1.2.3.4:99999",
            "::1]",
        ] {
            assert_eq!(parse_address(bad), None, "{bad}");
        }
    }

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(counting_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(counting_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            counting_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            counting_key(ip("2001:db8:1:2::ffff")),
            counting_key(ip("2001:db8:1:2:1::"))
        );
        assert_ne!(
            counting_key(ip("2001:db8:1:2::1")),
            counting_key(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn networks_are_addresses_or_cidr_ranges() {
        let net = Network::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.255.0.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "mapped");
        let v6 = Network::parse("2001:db8::/33").unwrap();
        assert!(v6.contains(ip("2001:db8:7fff::1")));
        assert!(!v6.contains(ip("2001:db8:8000::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let one = Network::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let mapped = Network::parse("::ffff:192.0.2.0/120").unwrap();
        assert!(mapped.contains(ip("192.0.2.200")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "::/129",
            "x",
            "",
        ] {
            assert_eq!(Network::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_trusted_proxy_list_is_comma_separated_and_refuses_garbage() {
        assert!(proxies("").is_empty());
        assert!(proxies(" , ").is_empty());
        let list = proxies("10.0.0.0/8, 192.0.2.1 ,fd00::/8");
        assert!(list.trusts(ip("10.9.9.9")));
        assert!(list.trusts(ip("192.0.2.1")));
        assert!(list.trusts(ip("fd12::1")));
        assert!(!list.trusts(ip("192.0.2.2")));
        for bad in [
            "10.0.0.0/8;",
            "10.0.0.0/8 192.0.2.1",
            "proxy.internal",
            "10.0.0.300",
        ] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_peer() {
        let list = proxies("10.0.0.0/8");
        let forged: &[&[u8]] = &[b"198.51.100.1"];
        assert_eq!(list.client(ip("203.0.113.5"), forged), ip("203.0.113.5"));
        assert_eq!(proxies("").client(ip("10.0.0.1"), forged), ip("10.0.0.1"));
        assert_eq!(list.client(ip("10.0.0.1"), forged), ip("198.51.100.1"));
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_address() {
        let list = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        // The client prepended a forged chain; the proxies appended the real hops.
        let chain: &[&[u8]] = &[b"1.1.1.1, 2.2.2.2", b"203.0.113.5, 10.0.0.9"];
        assert_eq!(list.client(peer, chain), ip("203.0.113.5"));
        // Only trusted hops: the left-most of them (the first proxy) is the client.
        assert_eq!(list.client(peer, &[b"10.0.0.3, 10.0.0.2"]), ip("10.0.0.3"));
        // No header, or nothing usable in it: the proxy itself.
        assert_eq!(list.client(peer, &[]), peer);
        assert_eq!(list.client(peer, &[b" , "]), peer);
        assert_eq!(list.client(peer, &[b"unknown"]), peer);
        // Garbage right of the client: the walk stops at the hop that passed it on.
        assert_eq!(
            list.client(peer, &[b"203.0.113.5, junk, 10.0.0.4"]),
            ip("10.0.0.4")
        );
        // Ports and brackets, and IPv6 clients.
        assert_eq!(
            list.client(peer, &[b"[2001:db8::5]:1234"]),
            ip("2001:db8::5")
        );
        assert_eq!(list.client(peer, &[b"\xff\xfe"]), peer);
    }
}

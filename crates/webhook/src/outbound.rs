//! Where outbound webhook requests may go.
//!
//! A webhook target is a URL a project admin types, so without a check it is a way to make berth
//! send requests into its own network: the cloud metadata service, the database, admin ports on
//! loopback. Targets on internal addresses ([`is_internal`]) are therefore refused unless the
//! operator lists them in `BERTH_OUTBOUND_ALLOW` ([`OutboundPolicy::parse`]).
//!
//! [`OutboundPolicy::check_url`] runs before any request and catches IP literals, in whatever
//! spelling (URLs are parsed the WHATWG way, as browsers do, so `http://0x7f.1`,
//! `http://2130706433/` and `http://127.1/` are all 127.0.0.1). Host names pass it: the client
//! must check every address a name resolves to with [`OutboundPolicy::permits`] at connect time,
//! so a name pointing inside (or re-pointed there later) is refused too.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// The environment variable [`OutboundPolicy::parse`] reads its list from.
pub const ALLOW_ENV: &str = "BERTH_OUTBOUND_ALLOW";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error(
        "BERTH_OUTBOUND_ALLOW entry {entry:?} is not an IP address or CIDR; \
         list entries like 10.0.0.0/8, 127.0.0.1 or ::1, separated by commas"
    )]
    BadAllowEntry { entry: String },
    #[error(
        "webhook target is not a valid URL ({reason}); write it as http(s)://host[:port]/path"
    )]
    InvalidUrl { reason: String },
    #[error("webhook target scheme {scheme:?} is not allowed; use http:// or https://")]
    Scheme { scheme: String },
    #[error("webhook target URL has no host; write it as http(s)://host[:port]/path")]
    NoHost,
    #[error(
        "webhook target URL carries credentials (user:password@host); berth refuses them in \
         URLs, put them in the target's auth header instead"
    )]
    Credentials,
    #[error(
        "webhook target {ip} is {what}; berth refuses internal targets unless \
         BERTH_OUTBOUND_ALLOW lists them"
    )]
    Internal { ip: IpAddr, what: String },
}

/// Which internal addresses outbound requests may reach anyway. Public unicast addresses are
/// always permitted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allow: Vec<IpNet>,
}

impl OutboundPolicy {
    /// From `BERTH_OUTBOUND_ALLOW`'s value: CIDRs or single addresses separated by commas (and/or
    /// white space), e.g. `"127.0.0.1/32, ::1, 10.0.0.0/8"`. Empty or blank allows nothing
    /// beyond public addresses. The error names the first bad entry.
    pub fn parse(list: &str) -> Result<OutboundPolicy, OutboundError> {
        let mut allow = Vec::new();
        for entry in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            allow.push(
                parse_entry(entry).ok_or_else(|| OutboundError::BadAllowEntry {
                    entry: entry.to_string(),
                })?,
            );
        }
        Ok(OutboundPolicy { allow })
    }

    /// The allowed networks, as parsed (host bits cleared).
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether a request may go to `ip`: any address that is not [`is_internal`], and internal
    /// ones inside an allowed network. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is also
    /// permitted when its IPv4 address is allowed, since that is where it connects.
    pub fn permits(&self, ip: IpAddr) -> bool {
        if !is_internal(ip) {
            return true;
        }
        let canonical = ip.to_canonical();
        self.allow
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
    }

    /// Why a request may not go to `ip`, or `Ok` when [`permits`](Self::permits) says it may.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), OutboundError> {
        match internal_kind(ip) {
            Some(what) if !self.permits(ip) => Err(OutboundError::Internal { ip, what }),
            _ => Ok(()),
        }
    }

    /// Checks a target URL before any request: the scheme is http or https; there is a host;
    /// there are no credentials in it (they belong in the target's auth header); any port; and
    /// when the host is an IP literal, in any spelling (`[::ffff:127.0.0.1]`, `0x7f.1`,
    /// `2130706433`, `127.1`, full-width digits), it must be [`permits`](Self::permits)ted.
    /// Host names pass here; their addresses are checked at connect time.
    pub fn check_url(&self, url: &str) -> Result<(), OutboundError> {
        self.parse_target(url).map(drop)
    }

    /// [`check_url`](Self::check_url), returning the parsed (WHATWG-normalised) URL. The client
    /// should send to this URL rather than re-parse the original text, so the host it connects
    /// to is the one that was checked.
    pub fn parse_target(&self, url: &str) -> Result<Url, OutboundError> {
        let parsed = Url::parse(url.trim()).map_err(|e| OutboundError::InvalidUrl {
            reason: e.to_string(),
        })?;
        match parsed.scheme() {
            "http" | "https" => {}
            other => {
                return Err(OutboundError::Scheme {
                    scheme: other.to_string(),
                })
            }
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(OutboundError::Credentials);
        }
        match parsed.host() {
            None => return Err(OutboundError::NoHost),
            Some(Host::Domain("")) => return Err(OutboundError::NoHost),
            Some(Host::Domain(_)) => {}
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
        }
        Ok(parsed)
    }
}

fn parse_entry(entry: &str) -> Option<IpNet> {
    if let Ok(net) = entry.parse::<IpNet>() {
        return Some(net.trunc());
    }
    let bare = entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .unwrap_or(entry);
    bare.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Whether `ip` is in the forbidden (internal) set:
///
/// - IPv4: 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10 (carrier-grade NAT), 127.0.0.0/8,
///   169.254.0.0/16 (link-local, including the cloud metadata service 169.254.169.254),
///   172.16.0.0/12, 192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/4 (multicast),
///   240.0.0.0/4 (reserved) and 255.255.255.255;
/// - IPv6: `::`, `::1`, fc00::/7 (unique local), fe80::/10 (link-local), fec0::/10 (the
///   deprecated site-local), ff00::/8 (multicast), 64:ff9b:1::/48 (local-use NAT64);
/// - IPv6 forms that carry an IPv4 address — IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
///   `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48` — are judged by that
///   IPv4 address.
pub fn is_internal(ip: IpAddr) -> bool {
    internal_kind(ip).is_some()
}

/// What kind of internal address `ip` is, as words for an error message ("a loopback address").
fn internal_kind(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4).map(str::to_string),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "a \"this network\" (0.0.0.0/8) address",
        (10, _, _) => "a private (10.0.0.0/8) address",
        (100, 64..=127, _) => "a carrier-grade NAT (100.64.0.0/10) address",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (172, 16..=31, _) => "a private (172.16.0.0/12) address",
        (192, 0, 0) => "an IETF protocol assignment (192.0.0.0/24) address",
        (192, 168, _) => "a private (192.168.0.0/16) address",
        (198, 18..=19, _) => "a benchmarking (198.18.0.0/15) address",
        (224..=239, _, _) => "a multicast address",
        _ if ip == Ipv4Addr::BROADCAST => "the broadcast address",
        (240..=255, _, _) => "a reserved (240.0.0.0/4) address",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<String> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("the unspecified address".into());
    }
    if ip.is_loopback() {
        return Some("a loopback address".into());
    }
    let embedded =
        |form: &str, v4: Ipv4Addr| v4_kind(v4).map(|what| format!("{form} of {v4}, {what}"));
    let low32 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => embedded("an IPv4-mapped form", low32),
        [0, 0, 0, 0, 0, 0, _, _] => embedded("an IPv4-compatible form", low32),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => embedded("a NAT64 form", low32),
        [0x64, 0xff9b, 1, ..] => Some("a local-use NAT64 (64:ff9b:1::/48) address".into()),
        [0x2002, hi, lo, ..] => embedded(
            "a 6to4 form",
            Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8),
        ),
        [first, ..] if first & 0xfe00 == 0xfc00 => Some("a unique local (fc00::/7) address".into()),
        [first, ..] if first & 0xffc0 == 0xfe80 => Some("a link-local address".into()),
        [first, ..] if first & 0xffc0 == 0xfec0 => Some("a site-local (fec0::/10) address".into()),
        [first, ..] if first & 0xff00 == 0xff00 => Some("a multicast address".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn none() -> OutboundPolicy {
        OutboundPolicy::parse("").unwrap()
    }

    #[test]
    fn every_forbidden_ipv4_range_is_internal_at_both_ends() {
        let ranges = [
            ("0.0.0.0", "0.255.255.255"),
            ("10.0.0.0", "10.255.255.255"),
            ("100.64.0.0", "100.127.255.255"),
            ("127.0.0.0", "127.255.255.255"),
            ("169.254.0.0", "169.254.255.255"),
            ("172.16.0.0", "172.31.255.255"),
            ("192.0.0.0", "192.0.0.255"),
            ("192.168.0.0", "192.168.255.255"),
            ("198.18.0.0", "198.19.255.255"),
            ("224.0.0.0", "239.255.255.255"),
            ("240.0.0.0", "255.255.255.254"),
            ("255.255.255.255", "255.255.255.255"),
        ];
        for (lo, hi) in ranges {
            assert!(is_internal(ip(lo)), "{lo}");
            assert!(is_internal(ip(hi)), "{hi}");
        }
        assert!(is_internal(ip("169.254.169.254")));
    }

    #[test]
    fn addresses_just_outside_the_ipv4_ranges_are_public() {
        for s in [
            "1.0.0.0",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "8.8.8.8",
            "93.184.216.34",
        ] {
            assert!(!is_internal(ip(s)), "{s}");
            assert!(none().permits(ip(s)), "{s}");
        }
    }

    #[test]
    fn every_forbidden_ipv6_range_is_internal() {
        for s in [
            "::",
            "::1",
            "fc00::",
            "fd12:3456::1",
            "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fe80::",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "ff00::",
            "ff02::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "64:ff9b:1::1",
        ] {
            assert!(is_internal(ip(s)), "{s}");
        }
        for s in [
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "fbff::1",
            "fe00::1",
        ] {
            assert!(!is_internal(ip(s)), "{s}");
        }
    }

    #[test]
    fn ipv6_forms_carrying_ipv4_are_judged_by_the_ipv4_address() {
        for s in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.1.2.3",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            "64:ff9b::127.0.0.1",
            "64:ff9b::169.254.169.254",
            "64:ff9b::192.168.1.1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(is_internal(ip(s)), "{s}");
        }
        for s in [
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(!is_internal(ip(s)), "{s}");
        }
    }

    #[test]
    fn hostile_spellings_of_loopback_in_urls_are_refused() {
        let policy = none();
        for url in [
            "http://127.0.0.1/",
            "http://0x7f.1",
            "http://0x7f.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://017700000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://127.0.1/",
            "http://127.0.0.1./",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:127.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[::1]:8080/x",
            "http://[::]/",
            "http://0/",
            "http://0.0.0.0:5000/",
            "http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/",
            "  http://127.0.0.1/  ",
            "HTTP://127.0.0.1/",
        ] {
            match policy.check_url(url) {
                Err(OutboundError::Internal { .. }) => {}
                other => panic!("{url:?} should be refused as internal, got {other:?}"),
            }
        }
    }

    #[test]
    fn urls_to_every_kind_of_internal_address_are_refused() {
        let policy = none();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5:8080/hook",
            "https://172.20.1.1/",
            "http://192.168.1.10/",
            "http://100.100.100.200/",
            "http://192.0.0.170/",
            "http://198.18.0.1/",
            "http://224.0.0.1/",
            "http://240.0.0.1/",
            "http://255.255.255.255/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[ff02::1]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://0xa9fea9fe/",
            "http://2852039166/",
        ] {
            assert!(
                matches!(policy.check_url(url), Err(OutboundError::Internal { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn public_ips_and_host_names_pass_the_url_check() {
        let policy = none();
        for url in [
            "https://hook.example/x",
            "http://hook.example:8080/path?q=1#frag",
            "https://8.8.8.8/",
            "http://[2001:4860:4860::8888]:443/",
            "http://localhost:9000/",
            "https://hooks.slack.com/services/T000/B000/XXXX",
        ] {
            assert_eq!(policy.check_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn internal_error_message_names_the_address_kind_and_the_way_out() {
        let err = none().check_url("http://169.254.169.254/").unwrap_err();
        assert_eq!(
            err.to_string(),
            "webhook target 169.254.169.254 is a link-local address; berth refuses internal \
             targets unless BERTH_OUTBOUND_ALLOW lists them"
        );
        let err = none().check_url("http://[::ffff:127.0.0.1]/").unwrap_err();
        assert_eq!(
            err.to_string(),
            "webhook target ::ffff:127.0.0.1 is an IPv4-mapped form of 127.0.0.1, a loopback \
             address; berth refuses internal targets unless BERTH_OUTBOUND_ALLOW lists them"
        );
    }

    #[test]
    fn allowlist_lets_127_0_0_1_through() {
        let policy = OutboundPolicy::parse("127.0.0.1/32, ::1, 10.0.0.0/8").unwrap();
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("::1")));
        assert!(policy.permits(ip("10.20.30.40")));
        assert!(
            policy.permits(ip("::ffff:127.0.0.1")),
            "IPv4-mapped form of an allowed address"
        );
        assert!(!policy.permits(ip("127.0.0.2")));
        assert!(!policy.permits(ip("169.254.169.254")));
        assert!(!policy.permits(ip("192.168.0.1")));
        assert!(
            policy.permits(ip("8.8.8.8")),
            "public addresses are always permitted"
        );
        assert_eq!(policy.check_url("http://127.0.0.1:5000/hook"), Ok(()));
        assert_eq!(policy.check_url("http://127.1:5000/hook"), Ok(()));
        assert_eq!(policy.check_url("http://[::1]:5000/hook"), Ok(()));
        assert!(policy.check_url("http://127.0.0.2/").is_err());
    }

    #[test]
    fn allowlist_parses_single_ips_cidrs_and_blank() {
        assert!(OutboundPolicy::parse("").unwrap().allowed().is_empty());
        assert!(OutboundPolicy::parse("  , ,\t")
            .unwrap()
            .allowed()
            .is_empty());
        let p = OutboundPolicy::parse("127.0.0.1,::1 10.1.2.3/8,[fe80::1],").unwrap();
        let shown: Vec<String> = p.allowed().iter().map(|n| n.to_string()).collect();
        assert_eq!(
            shown,
            ["127.0.0.1/32", "::1/128", "10.0.0.0/8", "fe80::1/128"]
        );
        assert!(
            !none().permits(ip("127.0.0.1")),
            "nothing internal without a list"
        );
    }

    #[test]
    fn allowlist_errors_name_the_bad_entry() {
        for (list, bad) in [
            ("127.0.0.1, localhost", "localhost"),
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("300.1.1.1", "300.1.1.1"),
            ("::1, 10.0.0.0/8/8", "10.0.0.0/8/8"),
        ] {
            let err = OutboundPolicy::parse(list).unwrap_err();
            assert_eq!(err, OutboundError::BadAllowEntry { entry: bad.into() });
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn userinfo_is_refused() {
        for url in [
            "http://user:secret@hook.example/",
            "http://user@hook.example/",
            "https://:secret@hook.example/",
            "http://127.0.0.1:80@hook.example/",
        ] {
            assert_eq!(
                none().check_url(url),
                Err(OutboundError::Credentials),
                "{url}"
            );
        }
        let msg = OutboundError::Credentials.to_string();
        assert!(msg.contains("auth header"), "{msg}");
    }

    #[test]
    fn non_http_schemes_are_refused() {
        for (url, scheme) in [
            ("ftp://hook.example/", "ftp"),
            ("file:///etc/passwd", "file"),
            ("gopher://127.0.0.1:6379/_", "gopher"),
            ("ws://hook.example/", "ws"),
            ("javascript:alert(1)", "javascript"),
        ] {
            assert_eq!(
                none().check_url(url),
                Err(OutboundError::Scheme {
                    scheme: scheme.into()
                }),
                "{url}"
            );
        }
    }

    #[test]
    fn malformed_urls_are_refused() {
        for url in [
            "",
            "hook.example/x",
            "http://",
            "http://[::1",
            "http://1.2.3.4.5/",
            "http://a b/",
        ] {
            assert!(
                matches!(none().check_url(url), Err(OutboundError::InvalidUrl { .. })),
                "{url:?}: {:?}",
                none().check_url(url)
            );
        }
    }

    #[test]
    fn parse_target_returns_the_normalised_url() {
        let policy = OutboundPolicy::parse("127.0.0.1").unwrap();
        let url = policy.parse_target("http://0x7f.1:8080/hook").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/hook");
        assert_eq!(url.port_or_known_default(), Some(8080));
    }
}

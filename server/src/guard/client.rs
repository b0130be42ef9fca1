//! Who and where a request comes from: the client IP behind trusted proxies,
//! and whether the request is one the console's own pages (or a non-browser
//! client) made, to a host name the console answers to.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, header};
use ipnet::IpNet;

/// Resolve the client IP: the socket peer, unless the peer is a trusted proxy,
/// in which case `X-Forwarded-For` is read right to left and the first hop
/// that is not itself a trusted proxy is the client. An unreadable header or
/// hop stops the walk with an error rather than falling back to a proxy's
/// address, which could sit inside the allowlist.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Result<IpAddr, String> {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Ok(peer);
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let text = value
            .to_str()
            .map_err(|_| "X-Forwarded-For holds bytes outside visible ASCII".to_string())?;
        hops.extend(text.split(',').map(str::trim));
    }
    let mut client = peer;
    for hop in hops.iter().rev() {
        let ip = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
            .map_err(|_| format!("X-Forwarded-For hop {hop:?} is not an IP address"))?
            .to_canonical();
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Ok(client)
}

/// The host names the console answers to when none are configured: the bind
/// address, `localhost`, `127.0.0.1` and `[::1]`.
pub fn default_hosts(bind: SocketAddr) -> Vec<String> {
    let mut hosts = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "[::1]".to_string(),
    ];
    let own = match bind.ip() {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    if !bind.ip().is_unspecified() && !hosts.contains(&own) {
        hosts.push(own);
    }
    hosts
}

/// The host part of a `Host` header value (`name`, `name:port`, `[v6]:port`),
/// lower-cased.
fn host_name(value: &str) -> String {
    let value = value.trim().to_ascii_lowercase();
    if value.starts_with('[') {
        return match value.find(']') {
            Some(end) => value[..=end].to_string(),
            None => value,
        };
    }
    match value.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_string(),
        _ => value,
    }
}

/// Refuse a `Host` that is not one of `allowed` (a request without one, from
/// a non-browser HTTP/1.0 client, passes: every browser sends it). This is
/// what stops DNS rebinding: a hostile name pointed at 127.0.0.1 still says
/// its own name here.
pub fn check_host(headers: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    let Some(value) = headers.get(header::HOST) else {
        return Ok(());
    };
    let text = value
        .to_str()
        .map_err(|_| "Host holds bytes outside visible ASCII".to_string())?;
    let name = host_name(text);
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
        Ok(())
    } else {
        Err(format!(
            "Host {name:?} is not one this console answers to (OPSDECK_ALLOWED_HOSTS)"
        ))
    }
}

/// Refuse what another site's page made a browser send: `Sec-Fetch-Site`
/// other than `same-origin` or `none`, or an `Origin` that is not this
/// console's own (scheme://host as the request's `Host` says it).
pub fn check_origin(headers: &HeaderMap) -> Result<(), String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("?");
        if !matches!(site, "same-origin" | "none") {
            return Err(format!(
                "cross-site request refused (Sec-Fetch-Site: {site}); use the console's own pages"
            ));
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| "Origin holds bytes outside visible ASCII".to_string())?;
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(a), Some(h)) if a.eq_ignore_ascii_case(h.trim()) => Ok(()),
        _ => Err(format!(
            "request from another origin refused (Origin: {origin}); use the console's own pages"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| crate::config::parse_net(s).unwrap())
            .collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let h = xff(&["127.0.0.1"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &nets(&["10.0.0.0/8"])).unwrap(),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("203.0.113.9"), &h, &[]).unwrap(),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_chain_is_read_right_to_left() {
        let trusted = nets(&["10.0.0.0/8"]);
        // client, then an untrusted hop the client may have forged, then our proxies
        let h = xff(&["127.0.0.1, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted).unwrap(),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn all_trusted_chain_yields_the_leftmost() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["10.0.0.9, 10.0.0.2"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted).unwrap(),
            ip("10.0.0.9")
        );
        // no header at all: the proxy itself
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted).unwrap(),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn garbage_hop_is_an_error_not_a_fallback() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["198.51.100.7, not-an-ip"]);
        assert!(
            client_ip(ip("10.0.0.1"), &h, &trusted)
                .unwrap_err()
                .contains("not-an-ip")
        );
        let h = xff(&["198.51.100.7, , 10.0.0.3"]);
        assert!(
            client_ip(ip("10.0.0.1"), &h, &trusted).is_err(),
            "empty hop"
        );
    }

    #[test]
    fn an_unreadable_forwarded_header_is_an_error_not_the_proxy() {
        let trusted = nets(&["10.0.0.0/8"]);
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"198.51.100.7\xff").unwrap(),
        );
        let err = client_ip(ip("10.0.0.1"), &h, &trusted).unwrap_err();
        assert!(err.contains("visible ASCII"), "{err}");
    }

    #[test]
    fn ports_and_mapped_addresses_are_normalised() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["198.51.100.7:5555"]);
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted).unwrap(),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &HeaderMap::new(), &[]).unwrap(),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn hosts_are_matched_by_name_whatever_the_port() {
        let allowed = default_hosts("127.0.0.1:8080".parse().unwrap());
        for ok in [
            "localhost:8080",
            "127.0.0.1:8080",
            "LOCALHOST",
            "[::1]:8080",
        ] {
            assert_eq!(
                check_host(&headers(&[("host", ok)]), &allowed),
                Ok(()),
                "{ok}"
            );
        }
        for bad in [
            "evil.example:8080",
            "127.0.0.1.nip.io",
            "localhost.evil",
            "[::2]:8080",
        ] {
            assert!(
                check_host(&headers(&[("host", bad)]), &allowed).is_err(),
                "{bad}"
            );
        }
        assert_eq!(check_host(&HeaderMap::new(), &allowed), Ok(()));
        let bound = default_hosts("192.168.1.5:80".parse().unwrap());
        assert!(bound.contains(&"192.168.1.5".to_string()));
    }

    #[test]
    fn only_same_origin_browser_requests_pass() {
        let ok = [
            vec![],
            vec![("sec-fetch-site", "same-origin")],
            vec![("sec-fetch-site", "none")],
            vec![
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ],
        ];
        for h in ok {
            assert_eq!(check_origin(&headers(&h)), Ok(()), "{h:?}");
        }
        let bad = [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:8080"),
            ],
            vec![
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:8080"),
            ],
            vec![("origin", "null"), ("host", "127.0.0.1:8080")],
            vec![("origin", "http://127.0.0.1:8080")],
        ];
        for h in bad {
            assert!(check_origin(&headers(&h)).is_err(), "{h:?}");
        }
    }
}

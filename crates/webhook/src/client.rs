//! The HTTP client for outbound deliveries. Every address it connects to — the target's,
//! a redirect's, each DNS answer — passes `OutboundPolicy` first, so a webhook cannot be
//! pointed at loopback, link-local (cloud metadata) or private networks unless allowed.

use crate::outbound::OutboundPolicy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Resolves names with the system resolver and keeps only permitted answers.
struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let answers: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = answers
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if permitted.is_empty() {
                let why = answers
                    .first()
                    .and_then(|a| policy.check_ip(a.ip()).err())
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "it has no addresses".into());
                return Err(format!("{host} cannot be reached: {why}").into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// A client whose every connection passes `policy`: DNS answers are filtered by it, and
/// with `follow_redirects` each redirect target is checked (at most 3); without, a redirect
/// is answered to the caller as it is (protocols where `302` means something, such as the
/// scanner adapter API's "report not ready"). No proxy from the environment (it would bypass
/// the checks). Callers still check the first URL with [`OutboundPolicy::check_url`]: an IP
/// literal is connected to without a DNS lookup.
pub fn guarded_client(
    policy: Arc<OutboundPolicy>,
    timeout: Duration,
    insecure: bool,
    follow_redirects: bool,
    user_agent: &'static str,
) -> reqwest::Client {
    let redirect_policy = policy.clone();
    let redirect = if follow_redirects {
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 {
                return attempt.error("more than 3 redirects");
            }
            match redirect_policy.check_url(attempt.url().as_str()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        })
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        // A proxy from the environment would bypass the address checks.
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { policy }))
        .redirect(redirect)
        .danger_accept_invalid_certs(insecure)
        .user_agent(user_agent)
        .build()
        .expect("the HTTP client builds")
}

/// Two clients: one verifying certificates, one for targets marked `skip_cert_verify`.
#[derive(Clone)]
pub struct Clients {
    verified: reqwest::Client,
    unverified: reqwest::Client,
}

impl Clients {
    pub fn new(policy: Arc<OutboundPolicy>, timeout: Duration) -> Clients {
        const AGENT: &str = concat!("berth-webhook/", env!("CARGO_PKG_VERSION"));
        Clients {
            verified: guarded_client(policy.clone(), timeout, false, true, AGENT),
            unverified: guarded_client(policy, timeout, true, true, AGENT),
        }
    }

    pub fn get(&self, skip_cert_verify: bool) -> &reqwest::Client {
        if skip_cert_verify {
            &self.unverified
        } else {
            &self.verified
        }
    }
}

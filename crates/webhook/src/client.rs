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

/// Two clients: one verifying certificates, one for targets marked `skip_cert_verify`.
#[derive(Clone)]
pub struct Clients {
    verified: reqwest::Client,
    unverified: reqwest::Client,
}

impl Clients {
    pub fn new(policy: Arc<OutboundPolicy>, timeout: Duration) -> Clients {
        let build = |insecure: bool| {
            let redirect_policy = policy.clone();
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(5)))
                // A proxy from the environment would bypass the address checks.
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver {
                    policy: policy.clone(),
                }))
                .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                    if attempt.previous().len() >= 3 {
                        return attempt.error("more than 3 redirects");
                    }
                    match redirect_policy.check_url(attempt.url().as_str()) {
                        Ok(()) => attempt.follow(),
                        Err(e) => attempt.error(e),
                    }
                }))
                .danger_accept_invalid_certs(insecure)
                .user_agent(concat!("berth-webhook/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        };
        Clients {
            verified: build(false),
            unverified: build(true),
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

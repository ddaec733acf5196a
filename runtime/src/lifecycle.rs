//! API versioning: deprecation and sunset of endpoints (RFC 9745 `Deprecation`, RFC 8594
//! `Sunset`, RFC 8288 `Link: <…>; rel="successor-version"`), declared on an endpoint
//! (`deprecated = "2026-06-30"`, `sunset = "2026-12-31"`, `successor = "/api/v2/…"`) or for a
//! whole version prefix with [`SecureRouter::version`](crate::SecureRouter::version). After
//! the sunset date the endpoint answers 410 problem+json, before any authentication.

use http::{HeaderName, HeaderValue, StatusCode};

use crate::policy::{Lifecycle, LifecycleDate};
use crate::problem::Problem;

/// Deprecation and sunset for every endpoint under a path prefix (a version: `/api/v1`).
/// An endpoint's own `deprecated`/`sunset`/`successor` take precedence.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Version {
    deprecated: Option<LifecycleDate>,
    sunset: Option<LifecycleDate>,
    successor: Option<String>,
}

fn date(what: &str, value: &str) -> LifecycleDate {
    LifecycleDate::parse(value)
        .unwrap_or_else(|| panic!("`Version::{what}`: {value:?} is not a date (YYYY-MM-DD)"))
}

impl Version {
    /// Deprecated since (or from) `date` (`YYYY-MM-DD`).
    ///
    /// # Panics
    /// At start-up, on a malformed date.
    pub fn deprecated(date_: &str) -> Self {
        Version {
            deprecated: Some(date("deprecated", date_)),
            ..Version::default()
        }
    }

    /// Retired from `date` (`YYYY-MM-DD`): 410 after it.
    ///
    /// # Panics
    /// At start-up, on a malformed date.
    pub fn sunset(mut self, date_: &str) -> Self {
        self.sunset = Some(date("sunset", date_));
        self
    }

    /// The prefix of the successor version (`/api/v2`): a request for `/api/v1/users/me` is
    /// pointed to `/api/v2/users/me`.
    pub fn successor(mut self, prefix: impl Into<String>) -> Self {
        self.successor = Some(prefix.into());
        self
    }
}

impl Version {
    pub(crate) fn deprecated_date(&self) -> Option<LifecycleDate> {
        self.deprecated
    }

    pub(crate) fn sunset_date(&self) -> Option<LifecycleDate> {
        self.sunset
    }

    pub(crate) fn successor_prefix(&self) -> Option<&str> {
        self.successor.as_deref()
    }
}

/// What an endpoint does about its lifecycle, prepared once at start-up.
#[derive(Debug)]
pub(crate) struct LifecycleRuntime {
    sunset_at: Option<i64>,
    headers: Vec<(HeaderName, HeaderValue)>,
    successor: Successor,
}

#[derive(Debug)]
enum Successor {
    None,
    /// A fixed target, or a template whose `{param}`s are filled from the request path: each
    /// `(segment index in the successor, segment index in the route)`.
    Template {
        segments: Vec<String>,
        params: Vec<(usize, usize)>,
    },
    /// The request path with `old` replaced by `new`.
    Prefix {
        old: String,
        new: String,
    },
}

impl LifecycleRuntime {
    /// The endpoint's lifecycle on `route`, with the router's `version` for its prefix.
    /// `None` when the endpoint is neither deprecated nor sunset.
    ///
    /// # Panics
    /// When the sunset date is before the deprecation date, or the successor is not a safe
    /// header value.
    pub(crate) fn new(
        own: &Lifecycle,
        version: Option<(&str, &Version)>,
        route: &str,
        handler: &str,
    ) -> Option<Self> {
        let deprecated = own
            .deprecated
            .or_else(|| version.and_then(|(_, v)| v.deprecated));
        let sunset = own.sunset.or_else(|| version.and_then(|(_, v)| v.sunset));
        if deprecated.is_none() && sunset.is_none() {
            return None;
        }
        if let (Some(d), Some(s)) = (deprecated, sunset) {
            assert!(
                d <= s,
                "endpoint `{handler}` on `{route}`: sunset {s} is before deprecation {d}"
            );
        }
        let mut headers = Vec::new();
        if let Some(d) = deprecated {
            headers.push((
                HeaderName::from_static("deprecation"),
                HeaderValue::from_str(&format!("@{}", d.unix)).expect("digits"),
            ));
        }
        if let Some(s) = sunset {
            headers.push((
                HeaderName::from_static("sunset"),
                HeaderValue::from_str(&s.http_date()).expect("an HTTP date"),
            ));
        }
        let successor = match (own.successor, version) {
            (Some(target), _) => {
                let route_segments: Vec<&str> = route.split('/').collect();
                let segments: Vec<String> = target.split('/').map(str::to_owned).collect();
                let params = segments
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.starts_with('{') && s.ends_with('}'))
                    .map(|(i, s)| {
                        let at = route_segments.iter().position(|r| r == s).unwrap_or_else(|| {
                            panic!("endpoint `{handler}`: successor parameter {s} is not in the route `{route}`")
                        });
                        (i, at)
                    })
                    .collect();
                Successor::Template { segments, params }
            }
            (
                None,
                Some((
                    prefix,
                    Version {
                        successor: Some(new),
                        ..
                    },
                )),
            ) => Successor::Prefix {
                old: prefix.to_owned(),
                new: new.clone(),
            },
            _ => Successor::None,
        };
        Some(LifecycleRuntime {
            sunset_at: sunset.map(|s| s.unix),
            headers,
            successor,
        })
    }

    /// 410 once the sunset date has come.
    pub(crate) fn check(&self) -> Result<(), Problem> {
        match self.sunset_at {
            Some(at) if now() >= at => Err(Problem::new(StatusCode::GONE)
                .with_code("sunset")
                .with_detail("This endpoint has been retired.")),
            _ => Ok(()),
        }
    }

    /// The `Deprecation`, `Sunset` and `Link` headers for a request to `path`.
    pub(crate) fn headers(&self, path: &str) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = self.headers.clone();
        let link = match &self.successor {
            Successor::None => None,
            Successor::Template { segments, params } => {
                let actual: Vec<&str> = path.split('/').collect();
                let mut segments = segments.clone();
                for (i, at) in params {
                    segments[*i] = actual.get(*at).copied().unwrap_or_default().to_owned();
                }
                Some(segments.join("/"))
            }
            Successor::Prefix { old, new } => path
                .strip_prefix(old.as_str())
                .map(|rest| format!("{new}{rest}")),
        };
        if let Some(target) = link {
            if let Ok(value) =
                HeaderValue::from_str(&format!("<{target}>; rel=\"successor-version\""))
            {
                headers.push((http::header::LINK, value));
            }
        }
        headers
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

//! Where a verifier reads its credential: an `Authorization` scheme (`Bearer` by default,
//! `Token` for RealWorld-style APIs), a header of its own, or a cookie; and the
//! `WWW-Authenticate` challenge that names what was configured.
//!
//! One [`Credentials`] value per verifier ([`JwtVerifierBuilder::credentials`], and
//! [`SecurityBuilder::api_key_credentials`] for API keys). Every configured location is looked
//! at: none presenting a credential is *missing* (an optional-auth endpoint then admits the
//! caller as anonymous); exactly one presenting a well-formed credential hands it to the
//! verifier; anything else (two locations at once, a header repeated, an `Authorization` of
//! another scheme, an empty value, a cookie named twice, a cookie on a cross-site unsafe
//! request) is *invalid*: 401, never anonymous.
//!
//! **Cookies and CSRF.** A browser attaches cookies to cross-site requests, so a cookie alone
//! does not show that the page sending the request is the application's. For unsafe methods
//! (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`), a request authenticated by cookie must
//! also show where it comes from: an `Origin` header naming one of the origins configured
//! with [`CookieCredential::allow_origin`] (or, with none configured, this server's own origin
//! `https://<Host>`), or the custom header named by [`CookieCredential::csrf_header`], which
//! no cross-site page can send without a CORS preflight that the router refuses unless CORS
//! allows it. Otherwise the request is refused with 401. Set the cookie yourself with
//! `Secure; HttpOnly; SameSite=Lax` (or `Strict`) and a `__Host-` name: `SameSite` is the
//! browser's first line, the origin check the server's own.
//!
//! [`JwtVerifierBuilder::credentials`]: crate::jwt::JwtVerifierBuilder::credentials
//! [`SecurityBuilder::api_key_credentials`]: crate::SecurityBuilder::api_key_credentials

use http::header::{HeaderName, AUTHORIZATION, COOKIE, HOST, ORIGIN, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderValue, Method};

use super::AuthFailure;
use crate::policy::AuthScheme;
use crate::problem::Problem;

/// Where one verifier reads its credential, tried together (see the [module](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    locations: Vec<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// `Authorization: <scheme> <credential>`, one of these schemes (compared
    /// case-insensitively, as RFC 9110 §11.1 says).
    Authorization(Vec<String>),
    /// A header of its own holding the credential alone; the name as configured, for the
    /// challenge.
    Header(HeaderName, String),
    /// A cookie.
    Cookie(CookieCredential),
}

/// A credential carried in a cookie, with the origin check unsafe methods need (see the
/// [module](self) on CSRF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieCredential {
    name: String,
    origins: Vec<String>,
    csrf_header: Option<HeaderName>,
}

impl CookieCredential {
    /// The cookie `name` (a `__Host-` name is recommended).
    ///
    /// # Panics
    /// When `name` is empty or holds characters a cookie name cannot (RFC 6265: a token).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)),
            "`CookieCredential::new`: {name:?} is not a cookie name"
        );
        CookieCredential {
            name,
            origins: Vec::new(),
            csrf_header: None,
        }
    }

    /// An origin (`https://app.example.com`, exactly as browsers send `Origin`) whose pages
    /// may send unsafe requests with the cookie; call again for several. Without any, only
    /// this server's own origin (`https://` and the request's `Host`) may.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// A header (e.g. `X-Requested-With`) whose presence also admits an unsafe request with
    /// the cookie: a cross-site page cannot send it without a CORS preflight.
    ///
    /// # Panics
    /// When `name` is not a header name.
    pub fn csrf_header(mut self, name: &str) -> Self {
        self.csrf_header = Some(
            HeaderName::try_from(name)
                .unwrap_or_else(|_| panic!("`CookieCredential::csrf_header`: {name:?}")),
        );
        self
    }

    /// `true` when the request may use the cookie: a safe method, an allowed `Origin`, or
    /// the CSRF header.
    fn admits(&self, parts: &Parts) -> bool {
        if matches!(
            parts.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) {
            return true;
        }
        if let Some(header) = &self.csrf_header {
            if parts.headers.get(header).is_some_and(|v| !v.is_empty()) {
                return true;
            }
        }
        let mut origins = parts.headers.get_all(ORIGIN).iter();
        let (Some(origin), None) = (origins.next(), origins.next()) else {
            return false;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if self.origins.is_empty() {
            let host = parts
                .headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .or_else(|| parts.uri.authority().map(|a| a.as_str()));
            host.is_some_and(|host| {
                origin
                    .strip_prefix("https://")
                    .is_some_and(|o| o.eq_ignore_ascii_case(host))
            })
        } else {
            self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
        }
    }
}

/// A credential found in the request, and where. Its `Debug` never shows the credential.
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    /// The credential itself (the token, the key). Never log it.
    pub credential: &'a str,
    /// The `Authorization` scheme it came with, as configured (`Bearer`, `Token`); `None` for
    /// a header or a cookie. A verifier that binds tokens to a proof (DPoP) reads it here.
    pub scheme: Option<&'a str>,
}

impl std::fmt::Debug for Presented<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("credential", &"[redacted]")
            .field("scheme", &self.scheme)
            .finish()
    }
}

/// Longest credential read from any location, in bytes (verifiers apply their own, smaller,
/// limits too).
const MAX_CREDENTIAL_LEN: usize = 16 * 1024;

impl Credentials {
    /// `Authorization: <scheme> <credential>`, e.g. `Credentials::authorization("Token")`.
    ///
    /// # Panics
    /// When `scheme` is not an HTTP authentication scheme name (a token, RFC 9110 §11.1).
    pub fn authorization(scheme: impl Into<String>) -> Self {
        Credentials {
            locations: Vec::new(),
        }
        .or_authorization(scheme)
    }

    /// The credential alone in the header `name`, e.g. `Credentials::header("X-Auth-Token")`.
    ///
    /// # Panics
    /// When `name` is not a header name, or is `Authorization` or `Cookie` (use
    /// [`authorization`](Self::authorization) or [`cookie`](Self::cookie)).
    pub fn header(name: &str) -> Self {
        Credentials {
            locations: Vec::new(),
        }
        .or_header(name)
    }

    /// The credential in a cookie, checked against cross-site use (see the [module](self)).
    pub fn cookie(cookie: CookieCredential) -> Self {
        Credentials {
            locations: Vec::new(),
        }
        .or_cookie(cookie)
    }

    /// Also accepts `Authorization: <scheme> <credential>` (one location holding several
    /// schemes: `Bearer` or `Token`).
    ///
    /// # Panics
    /// See [`authorization`](Self::authorization).
    pub fn or_authorization(mut self, scheme: impl Into<String>) -> Self {
        let scheme = scheme.into();
        assert!(
            !scheme.is_empty() && scheme.bytes().all(is_tchar),
            "`Credentials::authorization`: {scheme:?} is not an authentication scheme name"
        );
        match self
            .locations
            .iter_mut()
            .find(|l| matches!(l, Location::Authorization(_)))
        {
            Some(Location::Authorization(schemes)) => {
                if !schemes.iter().any(|s| s.eq_ignore_ascii_case(&scheme)) {
                    schemes.push(scheme);
                }
            }
            _ => self.locations.push(Location::Authorization(vec![scheme])),
        }
        self
    }

    /// Also accepts the credential in the header `name`.
    ///
    /// # Panics
    /// See [`header`](Self::header).
    pub fn or_header(mut self, name: &str) -> Self {
        let header = HeaderName::try_from(name)
            .unwrap_or_else(|_| panic!("`Credentials::header`: {name:?} is not a header name"));
        assert!(
            header != AUTHORIZATION && header != COOKIE,
            "`Credentials::header`: use `Credentials::authorization` or `Credentials::cookie` for {name:?}"
        );
        self.locations
            .push(Location::Header(header, name.to_owned()));
        self
    }

    /// Also accepts the credential in a cookie.
    pub fn or_cookie(mut self, cookie: CookieCredential) -> Self {
        self.locations.push(Location::Cookie(cookie));
        self
    }

    /// The credential the request presents: [`AuthFailure::Missing`] when no location holds
    /// one, [`AuthFailure::Invalid`] when one is malformed, repeated or ambiguous, or a cookie
    /// comes with an unsafe method from elsewhere.
    pub fn extract<'a>(&'a self, parts: &'a Parts) -> Result<Presented<'a>, AuthFailure> {
        let mut found = None;
        for location in &self.locations {
            let Some(presented) = location.extract(parts)? else {
                continue;
            };
            if found.is_some() {
                // Two credentials: which one the verifier checked would be a guess.
                return Err(AuthFailure::Invalid);
            }
            found = Some(presented);
        }
        found.ok_or(AuthFailure::Missing)
    }

    /// The `WWW-Authenticate` challenges for a refusal: one per `Authorization` scheme
    /// (`Bearer realm="api"`, with `error="invalid_token"` when a credential was refused,
    /// RFC 6750 §3), and `<label> realm="api", header="..."` or `cookie="..."` for the others,
    /// where `label` names the kind of credential (`Bearer`, `ApiKey`).
    pub fn challenges(&self, label: &str, failure: AuthFailure) -> Vec<HeaderValue> {
        let error = if failure == AuthFailure::Missing {
            ""
        } else {
            ", error=\"invalid_token\""
        };
        let mut out = Vec::new();
        for location in &self.locations {
            match location {
                Location::Authorization(schemes) => {
                    for scheme in schemes {
                        out.push(format!("{scheme} realm=\"api\"{error}"));
                    }
                }
                Location::Header(_, name) => {
                    out.push(format!("{label} realm=\"api\", header=\"{name}\""));
                }
                Location::Cookie(cookie) => {
                    out.push(format!("{label} realm=\"api\", cookie=\"{}\"", cookie.name));
                }
            }
        }
        // Scheme, header and cookie names were checked to be tokens when configured.
        out.into_iter()
            .filter_map(|c| HeaderValue::try_from(c).ok())
            .collect()
    }

    #[cfg(feature = "openapi")]
    /// Every place a credential is read, in the order configured, for the documentation of
    /// the API (the OpenAPI document's security schemes).
    pub(crate) fn places(&self) -> Vec<Place<'_>> {
        let mut out = Vec::new();
        for location in &self.locations {
            match location {
                Location::Authorization(schemes) => {
                    out.extend(schemes.iter().map(|s| Place::Authorization(s)));
                }
                Location::Header(_, name) => out.push(Place::Header(name)),
                Location::Cookie(cookie) => out.push(Place::Cookie(&cookie.name)),
            }
        }
        out
    }

    /// `true` when this is `Authorization: Bearer` alone, the JWT default.
    pub(crate) fn is_bearer_only(&self) -> bool {
        matches!(self.locations.as_slice(), [Location::Authorization(s)] if s.len() == 1 && s[0].eq_ignore_ascii_case("bearer"))
    }
}

/// One place a verifier reads its credential from ([`Credentials::places`]).
#[cfg(feature = "openapi")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place<'a> {
    /// `Authorization: <scheme> <credential>`, this scheme as configured.
    Authorization(&'a str),
    /// The credential alone in this header.
    Header(&'a str),
    /// The credential in this cookie.
    Cookie(&'a str),
}

impl Default for Credentials {
    /// `Authorization: Bearer` (RFC 6750).
    fn default() -> Self {
        Credentials::authorization("Bearer")
    }
}

impl Location {
    fn extract<'a>(&'a self, parts: &'a Parts) -> Result<Option<Presented<'a>>, AuthFailure> {
        match self {
            Location::Authorization(schemes) => {
                let Some(value) = single(parts, &AUTHORIZATION)? else {
                    return Ok(None);
                };
                // Bytes, not `to_str`: one pass over the credential decides both what
                // `to_str` would (visible ASCII) and `well_formed` (no whitespace). A scheme
                // that equals a configured token (ASCII) is visible ASCII itself.
                let value = value.as_bytes();
                let space = value
                    .iter()
                    .position(|&b| b == b' ')
                    .ok_or(AuthFailure::Invalid)?;
                let (scheme, credential) = (&value[..space], &value[space + 1..]);
                let scheme = schemes
                    .iter()
                    .find(|s| s.as_bytes().eq_ignore_ascii_case(scheme))
                    .ok_or(AuthFailure::Invalid)?;
                Ok(Some(Presented {
                    credential: well_formed(credential)?,
                    scheme: Some(scheme),
                }))
            }
            Location::Header(name, _) => match single(parts, name)? {
                None => Ok(None),
                Some(value) => Ok(Some(Presented {
                    credential: well_formed(value.as_bytes())?,
                    scheme: None,
                })),
            },
            Location::Cookie(cookie) => {
                let mut values = parts
                    .headers
                    .get_all(COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(';'))
                    .filter_map(|pair| {
                        let (name, value) = pair.trim().split_once('=')?;
                        (name.trim() == cookie.name).then_some(value.trim())
                    });
                let Some(value) = values.next() else {
                    return Ok(None);
                };
                // A cookie named twice: one may have been planted (cookie tossing).
                if values.next().is_some() || !cookie.admits(parts) {
                    return Err(AuthFailure::Invalid);
                }
                // RFC 6265 §4.1.1: a value may be wrapped in double quotes.
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                Ok(Some(Presented {
                    credential: well_formed(value.as_bytes())?,
                    scheme: None,
                }))
            }
        }
    }
}

/// The 401 for `failure` on an endpoint accepting `schemes` ([`AuthFailure::problem`]), with
/// the challenges of the schemes whose verifier reads credentials where `configured` says
/// (the credentials and the challenge's label), instead of the defaults.
pub(crate) fn refusal<'c>(
    failure: AuthFailure,
    schemes: &[AuthScheme],
    configured: impl Fn(AuthScheme) -> Option<(&'c Credentials, &'static str)>,
) -> Problem {
    if failure == AuthFailure::Unavailable || schemes.iter().all(|s| configured(*s).is_none()) {
        return failure.problem(schemes);
    }
    let mut problem = failure.problem(&[]);
    for scheme in schemes {
        match configured(*scheme) {
            Some((credentials, label)) => {
                for challenge in credentials.challenges(label, failure) {
                    problem = problem.with_header(WWW_AUTHENTICATE, challenge);
                }
            }
            None => {
                for challenge in failure
                    .problem(std::slice::from_ref(scheme))
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                {
                    problem = problem.with_header(WWW_AUTHENTICATE, challenge.clone());
                }
            }
        }
    }
    problem
}

/// The one value of header `name`: `None` when absent, invalid when repeated or not text.
fn single<'a>(parts: &'a Parts, name: &HeaderName) -> Result<Option<&'a HeaderValue>, AuthFailure> {
    let mut values = parts.headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthFailure::Invalid);
    }
    Ok(Some(value))
}

/// A credential is non-empty, bounded and visible ASCII without whitespace (`0x21..=0x7E`:
/// what `HeaderValue::to_str` admits, less the whitespace); its characters are the
/// verifier's to judge.
fn well_formed(credential: &[u8]) -> Result<&str, AuthFailure> {
    // A fold without early exit: the compiler vectorizes it, and a credential is read on
    // every authenticated request.
    if credential.is_empty() || credential.len() > MAX_CREDENTIAL_LEN {
        return Err(AuthFailure::Invalid);
    }
    let visible = credential
        .iter()
        .fold(true, |ok, &b| ok & (b.wrapping_sub(0x21) < 0x5E));
    if !visible {
        return Err(AuthFailure::Invalid);
    }
    std::str::from_utf8(credential).map_err(|_| AuthFailure::Invalid)
}

/// A `tchar` of RFC 9110 §5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
#[path = "credential_tests.rs"]
mod tests;

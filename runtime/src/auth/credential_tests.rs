//! Unit tests of credential locations and the 401 challenges.

use super::*;

fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = http::Request::builder().method(method).uri("/r");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

/// The byte rule is the one `to_str` and the whitespace check made before: every byte
/// value, between two letters, as `Authorization: Bearer` and as a custom header.
#[test]
fn credential_bytes_are_what_to_str_without_whitespace_admitted() {
    for b in 0..=255u8 {
        let raw = [b'a', b, b'a'];
        let Ok(value) = HeaderValue::from_bytes(&raw) else {
            continue; // not sendable as a header at all
        };
        let before = value
            .to_str()
            .ok()
            .filter(|v| !v.bytes().any(|b| b.is_ascii_whitespace()))
            .is_some();
        assert_eq!(well_formed(&raw).is_ok(), before, "byte {b:#04x}");
        let mut bearer = b"Bearer ".to_vec();
        bearer.extend_from_slice(&raw);
        let p = parts_raw(AUTHORIZATION, &bearer);
        let c = Credentials::default();
        assert_eq!(token(&c, &p).is_ok(), before, "bearer byte {b:#04x}");
        let name = HeaderName::from_static("x-api-key");
        let p = parts_raw(name.clone(), &raw);
        let c = Credentials::header(name.as_str());
        assert_eq!(token(&c, &p).is_ok(), before, "header byte {b:#04x}");
    }
}

fn parts_raw(name: HeaderName, value: &[u8]) -> Parts {
    let mut p = parts("GET", &[]);
    p.headers
        .insert(name, HeaderValue::from_bytes(value).unwrap());
    p
}

fn token<'a>(c: &'a Credentials, p: &'a Parts) -> Result<&'a str, AuthFailure> {
    c.extract(p).map(|p| p.credential)
}

#[test]
fn authorization_schemes_are_matched_case_insensitively() {
    let c = Credentials::authorization("Token").or_authorization("Bearer");
    let p = parts("GET", &[("authorization", "token abc")]);
    assert_eq!(c.extract(&p).unwrap().scheme, Some("Token"));
    assert_eq!(token(&c, &p), Ok("abc"));
    let p = parts("GET", &[("authorization", "Bearer abc")]);
    assert_eq!(c.extract(&p).unwrap().scheme, Some("Bearer"));
    for bad in ["Basic abc", "Token", "Token ", "Token a b", "Tokenabc"] {
        let p = parts("GET", &[("authorization", bad)]);
        assert_eq!(token(&c, &p), Err(AuthFailure::Invalid), "{bad:?}");
    }
    let p = parts(
        "GET",
        &[("authorization", "Token a"), ("authorization", "Token a")],
    );
    assert_eq!(token(&c, &p), Err(AuthFailure::Invalid));
    assert_eq!(token(&c, &parts("GET", &[])), Err(AuthFailure::Missing));
}

#[test]
fn a_header_and_ambiguity() {
    let c = Credentials::header("X-Auth-Token").or_authorization("Bearer");
    assert_eq!(
        token(&c, &parts("GET", &[("x-auth-token", "abc")])),
        Ok("abc")
    );
    assert_eq!(
        token(&c, &parts("GET", &[("x-auth-token", "")])),
        Err(AuthFailure::Invalid)
    );
    assert_eq!(
        token(
            &c,
            &parts(
                "GET",
                &[("x-auth-token", "abc"), ("authorization", "Bearer abc")]
            )
        ),
        Err(AuthFailure::Invalid)
    );
}

#[test]
fn a_cookie_needs_the_origin_on_unsafe_methods() {
    let c = Credentials::cookie(CookieCredential::new("__Host-s"));
    let cookie = ("cookie", "a=1; __Host-s=tok; b=2");
    assert_eq!(token(&c, &parts("GET", &[cookie])), Ok("tok"));
    assert_eq!(
        token(&c, &parts("GET", &[("cookie", "__Host-s=\"tok\"")])),
        Ok("tok")
    );
    assert_eq!(
        token(&c, &parts("POST", &[cookie])),
        Err(AuthFailure::Invalid)
    );
    let host = ("host", "api.example");
    let same = ("origin", "https://api.example");
    assert_eq!(token(&c, &parts("POST", &[cookie, host, same])), Ok("tok"));
    let other = ("origin", "https://evil.example");
    assert_eq!(
        token(&c, &parts("DELETE", &[cookie, host, other])),
        Err(AuthFailure::Invalid)
    );
    let http = ("origin", "http://api.example");
    assert_eq!(
        token(&c, &parts("POST", &[cookie, host, http])),
        Err(AuthFailure::Invalid)
    );
    let listed = Credentials::cookie(
        CookieCredential::new("__Host-s")
            .allow_origin("https://app.example")
            .csrf_header("x-requested-with"),
    );
    let app = ("origin", "https://app.example");
    assert_eq!(token(&listed, &parts("PUT", &[cookie, app])), Ok("tok"));
    assert_eq!(
        token(&listed, &parts("PUT", &[cookie, host, same])),
        Err(AuthFailure::Invalid)
    );
    assert_eq!(
        token(&listed, &parts("PUT", &[cookie, ("x-requested-with", "x")])),
        Ok("tok")
    );
    assert_eq!(
        token(&c, &parts("GET", &[("cookie", "__Host-s=a; __Host-s=b")])),
        Err(AuthFailure::Invalid)
    );
    assert_eq!(
        token(&c, &parts("GET", &[("cookie", "x__Host-s=a")])),
        Err(AuthFailure::Missing)
    );
}

#[test]
fn debug_never_shows_the_credential() {
    let c = Credentials::default();
    let p = parts("GET", &[("authorization", "Bearer s3cr3t-token")]);
    let shown = format!("{:?}", c.extract(&p).unwrap());
    assert!(
        !shown.contains("s3cr3t") && shown.contains("Bearer"),
        "{shown}"
    );
}

#[test]
fn challenges_name_what_was_configured() {
    let text = |c: &Credentials, f| {
        c.challenges("Bearer", f)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        text(&Credentials::default(), AuthFailure::Missing),
        ["Bearer realm=\"api\""]
    );
    assert_eq!(
        text(&Credentials::default(), AuthFailure::Invalid),
        ["Bearer realm=\"api\", error=\"invalid_token\""]
    );
    let c = Credentials::authorization("Token")
        .or_header("X-Auth-Token")
        .or_cookie(CookieCredential::new("sid"));
    assert_eq!(
        text(&c, AuthFailure::Missing),
        [
            "Token realm=\"api\"",
            "Bearer realm=\"api\", header=\"X-Auth-Token\"",
            "Bearer realm=\"api\", cookie=\"sid\""
        ]
    );
    assert!(Credentials::default().is_bearer_only());
    assert!(!c.is_bearer_only());
}

use super::*;
use crate::symbol::ALL_KEYS;

#[test]
fn rates() {
    assert_eq!(parse_rate("100/15m"), Ok((100, 900)));
    assert_eq!(parse_rate("10/s"), Ok((10, 1)));
    assert_eq!(parse_rate("5/1h"), Ok((5, 3600)));
    assert_eq!(parse_rate(" 7 / 2d "), Ok((7, 172_800)));
    assert!(parse_rate("100").is_err());
    assert!(parse_rate("0/1m").is_err());
    assert!(parse_rate("10/0m").is_err());
    assert!(parse_rate("10/15x").is_err());
    assert!(parse_rate("10/").is_err());
    assert!(parse_rate("-1/m").is_err());
    assert!(parse_rate("99999999999/m").is_err());
    assert!(parse_rate("1/999999999999999999999d").is_err());
}

#[test]
fn body_limits() {
    assert_eq!(parse_body_limit("100kb"), Ok(102_400));
    assert_eq!(parse_body_limit("100KB"), Ok(102_400));
    assert_eq!(parse_body_limit("512b"), Ok(512));
    assert_eq!(parse_body_limit("1B"), Ok(1));
    assert_eq!(parse_body_limit("2Mb"), Ok(2 * 1024 * 1024));
    assert_eq!(parse_body_limit("1024mb"), Ok(1 << 30));
    assert_eq!(parse_body_limit("1048576kb"), Ok(1 << 30));
    assert_eq!(parse_body_limit("0kb"), Err(BodyLimitError::Zero));
    assert_eq!(parse_body_limit("0b"), Err(BodyLimitError::Zero));
    assert_eq!(parse_body_limit("1025mb"), Err(BodyLimitError::TooLarge));
    assert_eq!(
        parse_body_limit("1073741825b"),
        Err(BodyLimitError::TooLarge)
    );
    assert_eq!(
        parse_body_limit("99999999999999999999999mb"),
        Err(BodyLimitError::TooLarge)
    );
    assert_eq!(
        parse_body_limit("18014398509481984mb"),
        Err(BodyLimitError::TooLarge)
    );
    for bad in [
        "", "kb", "100", "100k", "100kib", "1gb", "-1kb", "+1kb", "1.5mb", "100 kb", " 100kb",
        "100kb ", "１kb",
    ] {
        assert!(
            matches!(parse_body_limit(bad), Err(BodyLimitError::Malformed(_))),
            "{bad:?}: {:?}",
            parse_body_limit(bad)
        );
    }
}

#[test]
fn dates() {
    let d = parse_date("2026-06-30").unwrap();
    assert_eq!(
        (d.year, d.month, d.day, d.unix),
        (2026, 6, 30, 1_782_777_600)
    );
    assert_eq!(d.to_string(), "2026-06-30");
    assert_eq!(parse_date("1970-01-01").unwrap().unix, 0);
    assert_eq!(parse_date("2000-03-01").unwrap().unix, 951_868_800);
    assert_eq!(parse_date("9999-12-31").unwrap().unix, 253_402_214_400);
    assert!(parse_date("2024-02-29").is_ok());
    assert!(parse_date("2000-02-29").is_ok());
    assert!(parse_date("2025-12-31").unwrap() < parse_date("2026-01-01").unwrap());
    let no_such = |s: &str| match parse_date(s) {
        Err(DateError::NoSuchDate(why)) => why,
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(no_such("2026-02-29"), "February 2026 has 28 days");
    assert_eq!(no_such("2100-02-29"), "February 2100 has 28 days");
    assert_eq!(no_such("2024-02-30"), "February 2024 has 29 days");
    assert_eq!(no_such("2026-04-31"), "April has 30 days");
    assert_eq!(no_such("2026-01-00"), "days start at 01");
    assert_eq!(
        no_such("2026-13-01"),
        "there is no month 13; months are 01 to 12"
    );
    assert_eq!(
        no_such("2026-00-01"),
        "there is no month 00; months are 01 to 12"
    );
    assert_eq!(parse_date("1969-12-31"), Err(DateError::OutOfRange));
    assert_eq!(parse_date("0000-01-01"), Err(DateError::OutOfRange));
    for bad in [
        "",
        "2026-6-30",
        "26-06-30",
        "2026/06/30",
        "30.06.2026",
        "2026-06-30T00:00Z",
        " 2026-06-30",
        "2026-0a-30",
        "+026-06-30",
        "２０２６-06-30",
    ] {
        assert_eq!(parse_date(bad), Err(DateError::Malformed), "{bad:?}");
    }
}

#[test]
fn successors() {
    for good in [
        "/api/v2/users/{user_id}",
        "/v2",
        "/",
        "https://api.example.com/v2/users",
        "https://api.example.com",
        "/api/v2/search?q=a%20b#top",
    ] {
        assert_eq!(check_successor(good), Ok(()), "{good:?}");
    }
    let why = |s: &str| check_successor(s).unwrap_err();
    assert!(why("/api/v2 users").contains("contains a space"));
    assert!(why("/api/v2 users").contains("`%20`"));
    assert!(why("/api/\"v2").contains("contains `\"`"));
    assert!(why("/api/v2>; rel=next").contains("contains `>`"));
    assert!(why("/api/<v2").contains("`%3C`"));
    assert!(why("/api/v2\r\nSet-Cookie: a=b").contains("control character `\\r`"));
    assert!(why("/api/v2\t").contains("control character `\\t`"));
    assert!(why("/api/vé").contains("non-ASCII character `é`"));
    assert!(why("/api/vé").contains("`%C3%A9`"));
    assert!(why("/api/v2|x").contains("contains `|`"));
    assert!(why("").contains("is empty"));
    assert!(why("//evil.example/v2").contains("names another host"));
    assert!(why("http://api.example.com/v2").contains("is not HTTPS"));
    assert!(why("https://").contains("names no host"));
    assert!(why("https:///v2").contains("names no host"));
    assert!(why("api/v2").contains("must be a path starting with `/`"));
    assert!(why("javascript:alert(1)").contains("must be a path starting with `/`"));
}

#[test]
fn suggestions() {
    assert_eq!(
        unknown("atuh", "key", ALL_KEYS),
        "unknown key `atuh`; did you mean `auth`?"
    );
    assert_eq!(
        unknown("field", "key", ALL_KEYS),
        "unknown key `field`; did you mean `fields`?"
    );
    assert!(unknown("zzzzzz", "key", ALL_KEYS).contains("expected one of"));
}

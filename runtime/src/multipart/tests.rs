use bytes::Bytes;
use http::StatusCode;

use super::*;

/// The smallest PNG signature and IHDR start `infer` recognises.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01";
const WEBP: &[u8] = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0";

static AVATAR: &[PartSpec] = &[PartSpec {
    name: "file",
    types: &["image/png", "image/jpeg", "image/webp"],
    max: 64,
    optional: false,
}];

static WITH_CAPTION: &[PartSpec] = &[
    PartSpec {
        name: "file",
        types: &["image/png"],
        max: 64,
        optional: false,
    },
    PartSpec {
        name: "caption",
        types: &[],
        max: 16,
        optional: true,
    },
];

const BOUNDARY: &str = "XyZzY";

/// One part: name, file name, declared content type, content.
type FormPart<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart body of `(name, file name, content type, content)` parts.
fn body(parts: &[FormPart<'_>]) -> Bytes {
    let mut out = Vec::new();
    for (name, file_name, content_type, content) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(file_name) = file_name {
            disposition.push_str(&format!("; filename=\"{file_name}\""));
        }
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out.into()
}

async fn parse(
    spec: &'static [PartSpec],
    parts: &[FormPart<'_>],
) -> Result<MultipartForm, Problem> {
    parse_form(body(parts), BOUNDARY, spec, 4096).await
}

fn refused(result: Result<MultipartForm, Problem>) -> (StatusCode, &'static str, Vec<String>) {
    let problem = result.expect_err("refused");
    let fields = problem.errors().iter().map(|e| e.field.clone()).collect();
    (problem.status(), problem.code(), fields)
}

use crate::problem::Problem;

#[test]
fn every_sniffable_type_is_recognised_by_its_magic_number() {
    let samples: &[(&str, &[u8])] = &[
        ("image/png", PNG),
        ("image/jpeg", JPEG),
        ("image/gif", b"GIF89a\x01\0\x01\0"),
        ("image/webp", WEBP),
        ("image/avif", b"\0\0\0\x18ftypavif\0\0\0\0avifmif1"),
        ("image/bmp", b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0"),
        ("image/tiff", b"II\x2a\0\x08\0\0\0\x01\0\0"),
        ("application/pdf", b"%PDF-1.7\n"),
    ];
    assert_eq!(samples.len(), SNIFFABLE_TYPES.len());
    for (ty, bytes) in samples {
        assert!(SNIFFABLE_TYPES.contains(ty));
        assert_eq!(sniff(bytes), Some(*ty), "{ty}");
    }
    // Scripts, markup and nothing at all have no type of the list.
    for bytes in [
        &b"#!/bin/sh\nrm -rf /\n"[..],
        b"<script>alert(1)</script>",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        b"PK\x03\x04",
        b"",
    ] {
        assert_eq!(sniff(bytes), None);
    }
}

#[test]
fn file_names_are_sanitised_to_a_last_component() {
    let cases = [
        ("avatar.png", Some("avatar.png")),
        ("../../etc/passwd", Some("passwd")),
        ("..\\..\\windows\\win.ini", Some("win.ini")),
        ("/absolute/path/x.png", Some("x.png")),
        ("..", None),
        ("../", None),
        ("", None),
        ("  .hidden  ", Some("hidden")),
        ("a\0b\r\nc.png", Some("a_b__c.png")),
        ("evil\u{202e}gnp.exe", Some("evil_gnp.exe")),
        ("Übersicht 2026.pdf", Some("Übersicht 2026.pdf")),
        ("C:\\Users\\me\\photo.jpg", Some("photo.jpg")),
    ];
    for (raw, expected) in cases {
        assert_eq!(sanitize_file_name(raw).as_deref(), expected, "{raw:?}");
    }
    let long = "a".repeat(300) + ".png";
    assert_eq!(sanitize_file_name(&long).unwrap().chars().count(), 100);
}

#[tokio::test]
async fn a_declared_image_is_handed_over_with_its_sniffed_type() {
    let form = parse(
        AVATAR,
        &[("file", Some("../../me.png"), Some("image/png"), PNG)],
    )
    .await
    .unwrap();
    let part = form.part("file").unwrap();
    assert_eq!(part.content_type(), "image/png");
    assert_eq!(&part.bytes()[..], PNG);
    assert_eq!(part.file_name(), Some("me.png"));
    assert_eq!(part.text(), None);
    // The declared type's case and parameters do not matter; the essence must match.
    let form = parse(AVATAR, &[("file", None, Some("IMAGE/JPEG; q=1"), JPEG)])
        .await
        .unwrap();
    assert_eq!(form.part("file").unwrap().content_type(), "image/jpeg");
    assert_eq!(form.part("file").unwrap().file_name(), None);
}

#[tokio::test]
async fn content_is_judged_by_its_bytes() {
    // A script declared as a PNG.
    assert_eq!(
        refused(
            parse(
                AVATAR,
                &[("file", Some("x.png"), Some("image/png"), b"#!/bin/sh\n")]
            )
            .await
        ),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_not_allowed",
            vec!["file".to_owned()]
        )
    );
    // A PNG declared as a JPEG, or as nothing (text/plain by default).
    for declared in [Some("image/jpeg"), None, Some("application/octet-stream")] {
        assert_eq!(
            refused(parse(AVATAR, &[("file", None, declared, PNG)]).await).1,
            "content_type_mismatch",
            "{declared:?}"
        );
    }
    // A real GIF, but not in the part's list.
    assert_eq!(
        refused(
            parse(
                AVATAR,
                &[("file", None, Some("image/gif"), b"GIF89a\x01\0\x01\0")]
            )
            .await
        )
        .1,
        "content_type_not_allowed"
    );
}

#[tokio::test]
async fn parts_outside_the_declaration_are_refused_by_name() {
    assert_eq!(
        refused(
            parse(
                AVATAR,
                &[
                    ("file", None, Some("image/png"), PNG),
                    ("is_admin", None, None, b"true")
                ]
            )
            .await
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_part",
            vec!["is_admin".to_owned()]
        )
    );
    assert_eq!(
        refused(
            parse(
                AVATAR,
                &[
                    ("file", None, Some("image/png"), PNG),
                    ("file", None, Some("image/png"), PNG)
                ]
            )
            .await
        ),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many_parts",
            vec!["file".to_owned()]
        )
    );
    assert_eq!(
        refused(parse(AVATAR, &[]).await),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_parts",
            vec!["file".to_owned()]
        )
    );
    // A long unknown name is shown cut.
    let long = "x".repeat(500);
    let (_, _, fields) = refused(parse(AVATAR, &[(&long, None, None, b"1")]).await);
    assert_eq!(fields[0].len(), 64);
}

#[tokio::test]
async fn sizes_are_limited_per_part_and_in_all() {
    let big = [PNG, &[0u8; 64][..]].concat();
    assert_eq!(
        refused(parse(AVATAR, &[("file", None, Some("image/png"), &big)]).await),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "part_too_large",
            vec!["file".to_owned()]
        )
    );
    let whole = body(&[("file", None, Some("image/png"), PNG)]);
    let problem = parse_form(whole.clone(), BOUNDARY, AVATAR, whole.len() - 1)
        .await
        .unwrap_err();
    assert_eq!(problem.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(parse_form(whole.clone(), BOUNDARY, AVATAR, whole.len())
        .await
        .is_ok());
}

#[tokio::test]
async fn text_parts_are_utf8_text_and_may_be_optional() {
    let form = parse(
        WITH_CAPTION,
        &[
            ("file", None, Some("image/png"), PNG),
            ("caption", None, None, "héllo".as_bytes()),
        ],
    )
    .await
    .unwrap();
    let caption = form.part("caption").unwrap();
    assert_eq!(
        (caption.text(), caption.content_type()),
        (Some("héllo"), "text/plain")
    );
    let form = parse(WITH_CAPTION, &[("file", None, Some("image/png"), PNG)])
        .await
        .unwrap();
    assert!(form.part("caption").is_none());
    let code = |caption: (Option<&'static str>, &'static [u8])| async move {
        refused(
            parse(
                WITH_CAPTION,
                &[
                    ("file", None, Some("image/png"), PNG),
                    ("caption", None, caption.0, caption.1),
                ],
            )
            .await,
        )
        .1
    };
    assert_eq!(code((None, b"\xff\xfe")).await, "invalid_text");
    assert_eq!(
        code((Some("text/html"), b"<b>")).await,
        "content_type_not_allowed"
    );
    assert_eq!(code((None, b"seventeen bytes!!")).await, "part_too_large");
}

#[tokio::test]
async fn malformed_bodies_are_bad_requests() {
    for bytes in [
        &b"not multipart at all"[..],
        b"--XyZzY\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
    ] {
        let problem = parse_form(Bytes::from_static(bytes), BOUNDARY, AVATAR, 4096)
            .await
            .unwrap_err();
        assert_eq!(problem.status(), StatusCode::BAD_REQUEST, "{bytes:?}");
    }
    // A part without a name.
    let unnamed =
        Bytes::from_static(b"--XyZzY\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZzY--\r\n");
    assert_eq!(
        parse_form(unnamed, BOUNDARY, AVATAR, 4096)
            .await
            .unwrap_err()
            .code(),
        "unnamed_part"
    );
}

#[test]
fn part_debug_shows_no_content() {
    let part = Part {
        name: "file",
        content_type: "image/png",
        bytes: Bytes::from_static(b"secret-bytes"),
        file_name: Some("a.png".into()),
        text: false,
    };
    let shown = format!("{:?}", MultipartForm::new(vec![part]));
    assert!(shown.contains("len: 12") && !shown.contains("secret"));
}

//! Slugs: the URL-safe identifiers of articles, derived from their titles.

/// The slug of `title`: lowercase letters and digits (Unicode ones too), every other run of
/// characters one `-`, none at either end, at most 80 characters; `"article"` when nothing is
/// left. `"How to train your dragon?"` → `"how-to-train-your-dragon"`.
pub fn slugify(title: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut slug = String::with_capacity(title.len());
    let mut chars = 0;
    let mut pending_dash = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                if chars + 1 >= MAX_CHARS {
                    break;
                }
                slug.push('-');
                chars += 1;
            }
            pending_dash = false;
            for lower in c.to_lowercase() {
                if chars >= MAX_CHARS {
                    break;
                }
                slug.push(lower);
                chars += 1;
            }
            if chars >= MAX_CHARS {
                break;
            }
        } else {
            pending_dash = true;
        }
    }
    if slug.is_empty() {
        slug.push_str("article");
    }
    slug
}

/// The `n`th candidate slug for `base` when `base` is taken: `base-2`, `base-3`, ...
pub(crate) fn candidate(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_owned()
    } else {
        format!("{base}-{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("How to train your dragon"),
            "how-to-train-your-dragon"
        );
        assert_eq!(slugify("  Hello,   World!  "), "hello-world");
        assert_eq!(slugify("' OR 1=1 --"), "or-1-1");
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("Ünïcödé Straße"), "ünïcödé-straße");
        assert_eq!(slugify("!!!"), "article");
        assert_eq!(slugify(""), "article");
        assert_eq!(slugify(&"a".repeat(500)).chars().count(), 80);
        let long = format!("{} {}", "a".repeat(79), "b".repeat(10));
        assert_eq!(slugify(&long), "a".repeat(79));
    }

    #[test]
    fn candidates() {
        assert_eq!(candidate("x", 1), "x");
        assert_eq!(candidate("x", 2), "x-2");
    }
}

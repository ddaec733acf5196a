//! The organisation policy file, `secure-endpoint.toml`: found by walking up from the source
//! file of the attribute, parsed once per path and modification time, checked strictly (an
//! unknown key or a wrong type is an error naming the file and the key).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::notation::{parse_body_limit, parse_rate, unknown};
use crate::symbol::SCHEMES;

/// The file name looked for.
pub(crate) const FILE_NAME: &str = "secure-endpoint.toml";

/// Names of the rules, as written under `[rules]` and in `waive = [...]`.
pub(crate) const REQUIRE_RATE: &str = "require_rate";
pub(crate) const PUBLIC: &str = "public";
pub(crate) const MAX_RATE: &str = "max_rate";
pub(crate) const REQUIRE_OWNER_FOR_IDS: &str = "require_owner_for_ids";
pub(crate) const ALLOWED_SCHEMES: &str = "allowed_schemes";
pub(crate) const API_KEY_REQUIRES_SCOPES: &str = "api_key_requires_scopes";
pub(crate) const MAX_BODY_LIMIT: &str = "max_body_limit";

/// Every rule, in the order the documentation lists them.
pub(crate) const RULES: &[&str] = &[
    REQUIRE_RATE,
    PUBLIC,
    MAX_RATE,
    REQUIRE_OWNER_FOR_IDS,
    ALLOWED_SCHEMES,
    API_KEY_REQUIRES_SCOPES,
    MAX_BODY_LIMIT,
];

/// A policy file that parsed: where it is and what it requires.
#[derive(Debug)]
pub(crate) struct PolicyFile {
    pub(crate) path: PathBuf,
    pub(crate) rules: Rules,
}

impl PolicyFile {
    /// The path as shown in messages.
    pub(crate) fn display(&self) -> String {
        shown(&self.path)
    }
}

/// `path` relative to the current directory (the workspace root under cargo, as in rustc's own
/// `-->` lines) when it is below it, else absolute.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

/// The rules of a policy file; every one is optional and off by default.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Rules {
    pub(crate) require_rate: bool,
    /// `public.allow`: the handler names that may be public.
    pub(crate) public_allow: Option<Vec<String>>,
    /// `public.require_reason`.
    pub(crate) public_require_reason: bool,
    /// `max_rate`: the text and (count, period in seconds).
    pub(crate) max_rate: Option<(String, u32, u64)>,
    pub(crate) require_owner_for_ids: bool,
    pub(crate) allowed_schemes: Option<Vec<String>>,
    pub(crate) api_key_requires_scopes: bool,
    /// `max_body_limit`: the text and the bytes.
    pub(crate) max_body_limit: Option<(String, usize)>,
}

/// What the lookup found.
pub(crate) enum Lookup {
    /// No policy file on the way up: no extra rules.
    None,
    /// A policy file that parsed.
    Found(Arc<PolicyFile>),
    /// A policy file that did not: the path (still tracked) and the message.
    Broken(PathBuf, String),
}

impl Lookup {
    /// The file to track as a dependency, if any.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Lookup::None => None,
            Lookup::Found(file) => Some(&file.path),
            Lookup::Broken(path, _) => Some(path),
        }
    }
}

/// Finds and parses the policy file of the current macro call. Only callable inside a
/// procedural macro invocation.
pub(crate) fn load() -> Lookup {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let source = proc_macro::Span::call_site()
        .local_file()
        .map(|file| absolute(&file));
    let Some(path) = find(source.as_deref(), manifest_dir.as_deref()) else {
        return Lookup::None;
    };
    load_cached(&path)
}

/// `path` made absolute against the current directory (rustc's, which relative source paths
/// are relative to), without resolving symbolic links.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_owned();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(path),
        Err(_) => path.to_owned(),
    }
}

/// The nearest `secure-endpoint.toml`: in the source file's directory or one above it, up to
/// and including the crate root, which is `manifest_dir` or, for a source file outside it (a
/// file compiled from elsewhere, as trybuild does), the nearest directory holding a
/// `Cargo.toml`. Without a source file: `manifest_dir/secure-endpoint.toml`.
pub(crate) fn find(source: Option<&Path>, manifest_dir: Option<&Path>) -> Option<PathBuf> {
    let Some(source) = source else {
        let candidate = manifest_dir?.join(FILE_NAME);
        return candidate.is_file().then_some(candidate);
    };
    let mut dir = source.parent();
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if Some(d) == manifest_dir || d.join("Cargo.toml").is_file() {
            return None;
        }
        dir = d.parent();
    }
    None
}

type Cache = Mutex<HashMap<PathBuf, (Option<SystemTime>, Result<Arc<PolicyFile>, String>)>>;

/// Parses `path`, or reuses the parse of the same file with the same modification time.
fn load_cached(path: &Path) -> Lookup {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let result = match cache.get(path) {
        Some((when, result)) if modified.is_some() && *when == modified => result.clone(),
        _ => {
            let result = read(path);
            cache.insert(path.to_owned(), (modified, result.clone()));
            result
        }
    };
    match result {
        Ok(file) => Lookup::Found(file),
        Err(message) => Lookup::Broken(path.to_owned(), message),
    }
}

fn read(path: &Path) -> Result<Arc<PolicyFile>, String> {
    let shown = shown(path);
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read the policy file {shown}: {err}"))?;
    let rules = parse(&text).map_err(|why| format!("policy file {shown}: {why}"))?;
    Ok(Arc::new(PolicyFile {
        path: path.to_owned(),
        rules,
    }))
}

/// Parses the text of a policy file; the error says what is wrong, naming the key.
pub(crate) fn parse(text: &str) -> Result<Rules, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| format!("not valid TOML: {}", err.to_string().trim()))?;
    let mut rules = Rules::default();
    for (key, value) in &table {
        if key != "rules" {
            return Err(format!(
                "{}; the rules go under `[rules]`",
                unknown(key, "top-level key", &["rules"])
            ));
        }
        let toml::Value::Table(table) = value else {
            return Err(format!(
                "`rules` must be a table (`[rules]`), not {}",
                kind(value)
            ));
        };
        for (key, value) in table {
            let name = format!("rules.{key}");
            match key.as_str() {
                REQUIRE_RATE => rules.require_rate = boolean(&name, value)?,
                REQUIRE_OWNER_FOR_IDS => rules.require_owner_for_ids = boolean(&name, value)?,
                API_KEY_REQUIRES_SCOPES => rules.api_key_requires_scopes = boolean(&name, value)?,
                PUBLIC => {
                    let toml::Value::Table(public) = value else {
                        return Err(format!(
                            "`{name}` must be a table such as `{{ allow = [\"health\"] }}` or \
                             `{{ require_reason = true }}`, not {}",
                            kind(value)
                        ));
                    };
                    for (sub, value) in public {
                        let name = format!("{name}.{sub}");
                        match sub.as_str() {
                            "allow" => rules.public_allow = Some(strings(&name, value)?),
                            "require_reason" => {
                                rules.public_require_reason = boolean(&name, value)?;
                            }
                            other => {
                                return Err(unknown(
                                    other,
                                    "key of `rules.public`",
                                    &["allow", "require_reason"],
                                ))
                            }
                        }
                    }
                }
                MAX_RATE => {
                    let text = string(&name, value, "a rate such as \"1000/1m\"")?;
                    let (count, period) = parse_rate(&text)
                        .map_err(|why| format!("`{name}` = \"{text}\" is not a rate: {why}"))?;
                    rules.max_rate = Some((text, count, period));
                }
                ALLOWED_SCHEMES => {
                    let schemes = strings(&name, value)?;
                    for scheme in &schemes {
                        if !SCHEMES.contains(&scheme.as_str()) {
                            return Err(format!(
                                "in `{name}`: {}",
                                unknown(scheme, "auth scheme", SCHEMES)
                            ));
                        }
                    }
                    rules.allowed_schemes = Some(schemes);
                }
                MAX_BODY_LIMIT => {
                    let text = string(&name, value, "a size such as \"1mb\"")?;
                    let bytes = parse_body_limit(&text)
                        .map_err(|err| format!("`{name}`: {}", err.message(&text)))?;
                    rules.max_body_limit = Some((text, bytes));
                }
                other => {
                    return Err(unknown(other, "rule", RULES).replace("rule `", "rule `rules."))
                }
            }
        }
    }
    Ok(rules)
}

fn kind(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

fn boolean(name: &str, value: &toml::Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("`{name}` must be `true` or `false`, not {}", kind(value)))
}

fn string(name: &str, value: &toml::Value, example: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("`{name}` must be {example}, not {}", kind(value)))
}

fn strings(name: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    let bad = || format!("`{name}` must be an array of strings, not {}", kind(value));
    value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|item| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                format!(
                    "`{name}` must be an array of strings; it holds {}",
                    kind(item)
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_rule() {
        let rules = parse(
            r#"
            [rules]
            require_rate = true
            public = { allow = ["health", "login"], require_reason = true }
            max_rate = "1000/1m"
            require_owner_for_ids = true
            allowed_schemes = ["jwt", "hmac"]
            api_key_requires_scopes = true
            max_body_limit = "1mb"
            "#,
        )
        .unwrap();
        assert!(rules.require_rate && rules.require_owner_for_ids && rules.api_key_requires_scopes);
        assert_eq!(
            rules.public_allow,
            Some(vec!["health".to_owned(), "login".to_owned()])
        );
        assert!(rules.public_require_reason);
        assert_eq!(rules.max_rate, Some(("1000/1m".to_owned(), 1000, 60)));
        assert_eq!(rules.max_body_limit, Some(("1mb".to_owned(), 1 << 20)));
        assert_eq!(parse("").unwrap(), Rules::default());
    }

    #[test]
    fn errors_name_the_key() {
        let err = |text: &str| parse(text).unwrap_err();
        assert!(err("[rules]\nrequire_rates = true")
            .contains("unknown rule `rules.require_rates`; did you mean `require_rate`?"));
        assert!(err("[rules]\nrequire_rate = \"yes\"")
            .contains("`rules.require_rate` must be `true` or `false`, not a string"));
        assert!(err("[rules]\nmax_rate = \"fast\"")
            .contains("`rules.max_rate` = \"fast\" is not a rate"));
        assert!(err("[rules]\nmax_rate = 10").contains("not an integer"));
        assert!(err("[rules]\nallowed_schemes = [\"jwt\", \"basic\"]")
            .contains("unknown auth scheme `basic`"));
        assert!(err("[rules]\npublic = { allowed = [] }").contains("key of `rules.public`"));
        assert!(err("[rules]\nmax_body_limit = \"1gb\"").contains("`rules.max_body_limit`"));
        assert!(err("[rule]\nrequire_rate = true").contains("did you mean `rules`"));
        assert!(err("[rules\n").starts_with("not valid TOML"));
    }

    #[test]
    fn lookup_stops_at_the_crate_root() {
        let root = std::env::temp_dir().join(format!("se-policy-{}", std::process::id()));
        let sub = root.join("src/api");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        let source = sub.join("mod.rs");
        assert_eq!(find(Some(&source), Some(&root)), None);
        std::fs::write(root.join(FILE_NAME), "").unwrap();
        assert_eq!(find(Some(&source), Some(&root)), Some(root.join(FILE_NAME)));
        std::fs::write(sub.join(FILE_NAME), "").unwrap();
        assert_eq!(find(Some(&source), Some(&root)), Some(sub.join(FILE_NAME)));
        assert_eq!(find(None, Some(&root)), Some(root.join(FILE_NAME)));
        std::fs::remove_dir_all(&root).unwrap();
    }
}

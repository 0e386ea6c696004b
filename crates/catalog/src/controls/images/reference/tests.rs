//! Unit tests of the image reference parser.

use super::*;

const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn parts(text: &str) -> (Option<&str>, &str, Option<&str>, Option<&str>) {
    let r = ImageRef::parse(text).unwrap();
    (r.registry, r.repository, r.tag, r.digest)
}

#[test]
fn docker_hub_short_names() {
    assert_eq!(parts("nginx"), (None, "nginx", None, None));
    assert_eq!(parts("nginx:1.25"), (None, "nginx", Some("1.25"), None));
    assert_eq!(
        parts("bitnami/redis:7.2"),
        (None, "bitnami/redis", Some("7.2"), None)
    );
    assert_eq!(
        parts("library/ubuntu:latest"),
        (None, "library/ubuntu", Some("latest"), None)
    );
}

#[test]
fn registries_with_ports_and_nested_paths() {
    assert_eq!(
        parts("localhost:5000/app:1.0"),
        (Some("localhost:5000"), "app", Some("1.0"), None)
    );
    assert_eq!(
        parts("localhost/app"),
        (Some("localhost"), "app", None, None)
    );
    assert_eq!(
        parts("registry.example.com:443/team/sub/app:v2"),
        (
            Some("registry.example.com:443"),
            "team/sub/app",
            Some("v2"),
            None
        )
    );
    assert_eq!(
        parts("[::1]:5000/app"),
        (Some("[::1]:5000"), "app", None, None)
    );
    assert_eq!(
        parts("docker.io/library/nginx"),
        (Some("docker.io"), "library/nginx", None, None)
    );
    // Without a slash the colon starts a tag, as for every runtime.
    assert_eq!(
        parts("localhost:5000"),
        (None, "localhost", Some("5000"), None)
    );
}

#[test]
fn tags_and_digests_together() {
    let text = format!("registry.example.com/app:1.2@{SHA}");
    assert_eq!(
        parts(&text),
        (Some("registry.example.com"), "app", Some("1.2"), Some(SHA))
    );
    let text = format!("app@{SHA}");
    let r = ImageRef::parse(&text).unwrap();
    assert_eq!((r.tag, r.digest), (None, Some(SHA)));
    assert!(!r.is_floating());
    assert!(ImageRef::parse("app").unwrap().is_floating());
    assert!(ImageRef::parse("app:latest").unwrap().is_floating());
    assert!(!ImageRef::parse("app:1").unwrap().is_floating());
}

#[test]
fn never_panics_on_short_junk() {
    let alphabet = ['a', ':', '/', '@', '.', '[', ']', '_', '-', 'A', '1', 'é'];
    let mut texts = vec![String::new()];
    for _ in 0..4 {
        texts = texts
            .iter()
            .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
            .collect();
        for text in &texts {
            let _ = ImageRef::parse(text);
        }
    }
}

#[test]
fn separators_in_repository_names() {
    for ok in ["a.b", "a_b", "a__b", "a---b", "team/a-b.c_d/e9"] {
        assert!(ImageRef::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "a___b", "-a", "a-", "a..b", "a/.b", "a//b", "a/", "_a", "a.", "a+b",
    ] {
        assert!(ImageRef::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn rejects_what_runtimes_reject() {
    assert_eq!(ImageRef::parse(""), Err(RefError::Empty));
    let invalid = [
        "Nginx",
        "team/App:1",
        "nginx:",
        "nginx:-1",
        "nginx:1 ",
        " nginx",
        "nginx@sha256:abc",
        "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "nginx@:0123456789abcdef0123456789abcdef",
        ":1.0",
        "registry.example.com:port/app",
        "registry-.example.com/app",
        "[::1/app",
        "{{ .Values.image }}",
        "app:1.0:2.0",
    ];
    for text in invalid {
        assert!(
            matches!(ImageRef::parse(text), Err(RefError::Invalid(_))),
            "{text:?}"
        );
    }
    let long_tag = format!("app:{}", "a".repeat(129));
    assert!(ImageRef::parse(&long_tag).is_err());
    let long_name = "a".repeat(256);
    assert!(ImageRef::parse(&long_name).is_err());
    assert!(ImageRef::parse("app@sha999:0123456789abcdef0123456789abcdef").is_ok());
    assert!(ImageRef::parse("app@9sha:0123456789abcdef0123456789abcdef").is_err());
    // A first component with a dot is a registry host, where `_` is not allowed.
    assert!(ImageRef::parse("a_b.c/app").is_err());
}

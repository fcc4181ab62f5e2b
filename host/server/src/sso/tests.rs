use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use ring::signature::{self, KeyPair};
use serde_json::{Value, json};

use super::*;

const ISSUER: &str = "https://idp.example.com/realms/acme";
const AUDIENCE: &str = "qlp";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signing key of a stand-in identity provider: its private half signs
/// tokens, its public half goes into the JWKS.
struct Signer {
    alg: Algorithm,
    kid: String,
    key: EncodingKey,
    jwk: Value,
}

impl Signer {
    fn ed25519(kid: &str) -> Signer {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        Signer {
            alg: Algorithm::EdDSA,
            kid: kid.into(),
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                        "x": b64(pair.public_key().as_ref())}),
        }
    }

    fn p256(kid: &str) -> Signer {
        let rng = ring::rand::SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        Signer {
            alg: Algorithm::ES256,
            kid: kid.into(),
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                        "x": b64(&point[1..33]), "y": b64(&point[33..])}),
        }
    }

    /// The test-only RSA key of `tests/data/sso`.
    fn rsa(kid: &str, alg: Algorithm) -> Signer {
        let der = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/data/sso/rs256-test-only.der"),
        )
        .unwrap();
        let pair = signature::RsaKeyPair::from_der(&der).unwrap();
        let public: signature::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        let unpadded = |b: &[u8]| b64(&b[b.iter().take_while(|x| **x == 0).count()..]);
        Signer {
            alg,
            kid: kid.into(),
            key: EncodingKey::from_rsa_der(&der),
            jwk: json!({"kty": "RSA", "kid": kid,
                        "n": unpadded(&public.n), "e": unpadded(&public.e)}),
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }
}

/// Claims a well-configured provider would issue.
fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u-42",
        "exp": now() + 300,
        "iat": now(),
        "qlp_tenant": "acme",
        "qlp_roles": ["submitter", "reviewer"],
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn jwks(keys: &[&Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "keys": keys })).unwrap()
}

fn options(jwks: &str) -> SsoOptions {
    SsoOptions {
        issuer: Some(ISSUER.into()),
        audiences: vec!["other-app".into(), AUDIENCE.into()],
        jwks: Some(jwks.into()),
        tenant_claim: "qlp_tenant".into(),
        roles_claim: "qlp_roles".into(),
        role_prefix: String::new(),
        allow_admin: false,
    }
}

/// A verifier on a JWKS file holding `keys`, and the file.
async fn verifier_with(
    keys: &[&Value],
    tweak: impl FnOnce(&mut SsoOptions),
) -> (Arc<Sso>, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), jwks(keys)).unwrap();
    let mut options = options(file.path().to_str().unwrap());
    tweak(&mut options);
    let sso = Sso::from_options(&options).await.unwrap().unwrap();
    (sso, file)
}

async fn verifier(keys: &[&Value]) -> (Arc<Sso>, tempfile::NamedTempFile) {
    verifier_with(keys, |_| {}).await
}

fn roles(names: &[Role]) -> BTreeSet<Role> {
    names.iter().copied().collect()
}

#[tokio::test]
async fn tokens_of_each_key_type_verify_and_name_tenant_subject_and_roles() {
    let signers = [
        Signer::ed25519("ed"),
        Signer::p256("ec"),
        Signer::rsa("rsa", Algorithm::RS256),
        Signer::rsa("rsa", Algorithm::PS256),
    ];
    let jwks: Vec<&Value> = signers.iter().map(|s| &s.jwk).collect();
    let (sso, _file) = verifier(&jwks).await;
    for signer in &signers {
        let verified = sso.verify(&signer.sign(&claims())).await;
        assert_eq!(
            verified,
            Ok(Verified {
                tenant: "acme".into(),
                subject: "u-42".into(),
                roles: roles(&[Role::Submitter, Role::Reviewer]),
            }),
            "{:?}",
            signer.alg
        );
        assert_eq!(verified.unwrap().into_caller().identity, "sso:u-42");
    }
}

#[tokio::test]
async fn each_wrong_claim_is_refused_with_its_own_code() {
    let signer = Signer::ed25519("k1");
    let (sso, _file) = verifier(&[&signer.jwk]).await;
    let cases = [
        (
            with(claims(), "iss", json!("https://evil.example")),
            Refused::WrongIssuer,
        ),
        (
            with(claims(), "iss", json!(format!("{ISSUER}/"))),
            Refused::WrongIssuer,
        ),
        (without(claims(), "iss"), Refused::Malformed),
        (
            with(claims(), "aud", json!("someone-else")),
            Refused::WrongAudience,
        ),
        (
            with(claims(), "aud", json!(["x", "y"])),
            Refused::WrongAudience,
        ),
        (without(claims(), "aud"), Refused::Malformed),
        (
            with(claims(), "exp", json!(now() - LEEWAY_SECS - 60)),
            Refused::Expired,
        ),
        (without(claims(), "exp"), Refused::Malformed),
        (with(claims(), "exp", json!("tomorrow")), Refused::Malformed),
        (
            with(claims(), "nbf", json!(now() + LEEWAY_SECS + 60)),
            Refused::NotYetValid,
        ),
        (without(claims(), "sub"), Refused::Malformed),
        (with(claims(), "sub", json!("")), Refused::Malformed),
        (with(claims(), "sub", json!("a\nb")), Refused::Malformed),
        (
            with(claims(), "sub", json!("x".repeat(257))),
            Refused::Malformed,
        ),
        (without(claims(), "qlp_tenant"), Refused::UnknownTenant),
        (
            with(claims(), "qlp_tenant", json!("Not A Tenant")),
            Refused::UnknownTenant,
        ),
        (
            with(claims(), "qlp_tenant", json!(7)),
            Refused::UnknownTenant,
        ),
        (
            with(claims(), "qlp_roles", json!({"a": 1})),
            Refused::Malformed,
        ),
    ];
    for (claims, refused) in cases {
        assert_eq!(
            sso.verify(&signer.sign(&claims)).await,
            Err(refused),
            "{claims}"
        );
        assert!(refused.code().starts_with("TOKEN_"));
    }
    // An audience list holding one accepted audience, a token a little
    // past its expiry or before its nbf (clock skew), a subject at the
    // limit: accepted.
    for claims in [
        with(claims(), "aud", json!(["x", AUDIENCE])),
        with(claims(), "exp", json!(now() - LEEWAY_SECS / 2)),
        with(claims(), "nbf", json!(now() + LEEWAY_SECS / 2)),
        with(claims(), "sub", json!("x".repeat(256))),
    ] {
        assert!(sso.verify(&signer.sign(&claims)).await.is_ok(), "{claims}");
    }
}

#[tokio::test]
async fn forged_and_foreign_signatures_are_refused() {
    let signer = Signer::ed25519("k1");
    let (sso, _file) = verifier(&[&signer.jwk]).await;
    // Another key claiming the provider's kid.
    let impostor = Signer::ed25519("k1");
    assert_eq!(
        sso.verify(&impostor.sign(&claims())).await,
        Err(Refused::BadSignature)
    );
    // The claims changed after signing.
    let token = signer.sign(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let elevated = with(claims(), "qlp_roles", json!(["admin", "operator"]));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&serde_json::to_vec(&elevated).unwrap()),
        parts[2]
    );
    assert_eq!(sso.verify(&forged).await, Err(Refused::BadSignature));
    // A kid the provider never had.
    let stranger = Signer::ed25519("k9");
    assert_eq!(
        sso.verify(&stranger.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    // Unsigned, and signed with the public key as an HMAC secret.
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","kid":"k1"}"#),
        b64(&serde_json::to_vec(&claims()).unwrap())
    );
    assert_eq!(sso.verify(&unsigned).await, Err(Refused::Malformed));
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let x = signer.jwk["x"].as_str().unwrap().as_bytes();
    let hmac = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(x)).unwrap();
    assert_eq!(sso.verify(&hmac).await, Err(Refused::Malformed));
    for junk in ["", "a.b.c", "not a token", "..", "e30.e30.e30"] {
        assert_eq!(sso.verify(junk).await, Err(Refused::Malformed), "{junk}");
    }
}

#[tokio::test]
async fn a_key_verifies_only_its_own_algorithms() {
    let ec = Signer::p256("same");
    let mut rsa = Signer::rsa("rsa", Algorithm::PS256);
    // The JWK pins RS256: a PS256 token is not verified with it.
    rsa.jwk["alg"] = json!("RS256");
    let (sso, _file) = verifier(&[&ec.jwk, &rsa.jwk]).await;
    assert_eq!(
        sso.verify(&rsa.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    rsa.alg = Algorithm::RS256;
    assert!(sso.verify(&rsa.sign(&claims())).await.is_ok());
    // An EC key's kid on an RSA-signed token.
    rsa.kid = "same".into();
    assert_eq!(
        sso.verify(&rsa.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    // An Ed25519 key's kid on an RSA-signed token.
    let ed = Signer::ed25519("ed");
    let (sso, _file) = verifier(&[&ed.jwk]).await;
    rsa.kid = "ed".into();
    assert_eq!(
        sso.verify(&rsa.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
}

#[tokio::test]
async fn without_a_kid_every_key_of_the_algorithm_is_tried() {
    let (a, b) = (Signer::ed25519("a"), Signer::ed25519("b"));
    let (sso, _file) = verifier(&[&a.jwk, &b.jwk]).await;
    for signer in [&a, &b] {
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims(), &signer.key).unwrap();
        assert!(sso.verify(&token).await.is_ok());
    }
    let c = Signer::ed25519("c");
    let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims(), &c.key).unwrap();
    assert_eq!(sso.verify(&token).await, Err(Refused::BadSignature));
}

async fn check(sso: &Sso, signer: &Signer, claims: Value, expected: &[Role]) {
    let verified = sso.verify(&signer.sign(&claims)).await.unwrap();
    assert_eq!(verified.roles, roles(expected), "{claims}");
}

#[tokio::test]
async fn roles_come_from_the_configured_claim_and_prefix() {
    let signer = Signer::ed25519("k1");
    let (plain, _f1) = verifier(&[&signer.jwk]).await;
    check(
        &plain,
        &signer,
        with(claims(), "qlp_roles", json!("auditor  operator")),
        &[Role::Auditor, Role::Operator],
    )
    .await;
    check(
        &plain,
        &signer,
        with(
            claims(),
            "qlp_roles",
            json!(["submitter", "root", 3, "Reviewer"]),
        ),
        &[Role::Submitter],
    )
    .await;
    check(&plain, &signer, without(claims(), "qlp_roles"), &[]).await;
    // `admin` only where the operator allowed it.
    check(
        &plain,
        &signer,
        with(claims(), "qlp_roles", json!(["admin", "auditor"])),
        &[Role::Auditor],
    )
    .await;
    let (admin, _f2) = verifier_with(&[&signer.jwk], |o| o.allow_admin = true).await;
    check(
        &admin,
        &signer,
        with(claims(), "qlp_roles", json!(["admin"])),
        &[Role::Admin],
    )
    .await;
    // Keycloak's nested realm roles, with a prefix, and a tenant claim
    // whose name holds dots (Auth0's namespaced claims).
    let (nested, _f3) = verifier_with(&[&signer.jwk], |o| {
        o.roles_claim = "realm_access.roles".into();
        o.role_prefix = "qlp-".into();
        o.tenant_claim = "https://qlp.example.com/tenant".into();
    })
    .await;
    let keycloak = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u-7", "exp": now() + 60,
        "https://qlp.example.com/tenant": "team-7",
        "realm_access": {"roles": ["qlp-reviewer", "reviewer", "offline_access"]},
    });
    let verified = nested.verify(&signer.sign(&keycloak)).await.unwrap();
    assert_eq!(verified.tenant, "team-7");
    assert_eq!(verified.roles, roles(&[Role::Reviewer]));
}

#[tokio::test]
async fn a_rotated_key_is_read_again_but_not_more_often_than_the_refresh_floor() {
    let old = Signer::ed25519("2026-11");
    let (sso, file) = verifier(&[&old.jwk]).await;
    let new = Signer::ed25519("2026-12");
    assert_eq!(
        sso.verify(&new.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    std::fs::write(file.path(), jwks(&[&old.jwk, &new.jwk])).unwrap();
    // The first unknown kid since the start read the file; this one did
    // too recently, so the key set is read only after MIN_REFRESH.
    assert_eq!(
        sso.verify(&new.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    *sso.last_try.lock().await = Some(Instant::now() - MIN_REFRESH);
    assert!(sso.verify(&new.sign(&claims())).await.is_ok());
    assert!(sso.verify(&old.sign(&claims())).await.is_ok());
    // A broken file, or one with no usable key, keeps the keys in force.
    let newest = Signer::ed25519("2027-01");
    for broken in [
        b"{not json".to_vec(),
        jwks(&[&json!({"kty": "oct", "k": "AA"})]),
    ] {
        std::fs::write(file.path(), broken).unwrap();
        *sso.last_try.lock().await = Some(Instant::now() - MIN_REFRESH);
        assert_eq!(
            sso.verify(&newest.sign(&claims())).await,
            Err(Refused::UnknownKey)
        );
        assert!(sso.verify(&new.sign(&claims())).await.is_ok());
    }
}

#[tokio::test]
async fn keys_a_server_cannot_use_are_skipped() {
    let good = Signer::ed25519("good");
    let keys = [
        json!({"kty": "oct", "kid": "shared", "k": b64(b"secret")}),
        json!({"kty": "OKP", "crv": "X25519", "kid": "dh", "x": b64(&[1; 32])}),
        json!({"kty": "EC", "crv": "P-521", "kid": "big", "x": "AA", "y": "AA"}),
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}),
        json!({"kty": "weird"}),
        good.jwk.clone(),
    ];
    let parsed = parse(&jwks(&keys.iter().collect::<Vec<_>>())).unwrap();
    let kids: Vec<_> = parsed.iter().map(|k| k.kid.clone().unwrap()).collect();
    assert_eq!(kids, ["good"]);
    assert!(parse(b"[]").is_err());
    // A shared secret is never a key, whatever the token claims.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("shared".into());
    let (sso, _file) = verifier(&keys.iter().collect::<Vec<_>>()).await;
    let token =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(b"secret")).unwrap();
    assert_eq!(sso.verify(&token).await, Err(Refused::Malformed));
}

#[tokio::test]
async fn configuration_is_all_or_nothing_and_needs_a_usable_key() {
    assert!(
        Sso::from_options(&SsoOptions::default())
            .await
            .unwrap()
            .is_none()
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), jwks(&[&Signer::ed25519("k").jwk])).unwrap();
    let path = file.path().to_str().unwrap();
    for partial in [
        SsoOptions {
            issuer: None,
            ..options(path)
        },
        SsoOptions {
            audiences: vec![],
            ..options(path)
        },
        SsoOptions {
            jwks: None,
            ..options(path)
        },
        SsoOptions {
            issuer: Some(String::new()),
            ..options(path)
        },
        SsoOptions {
            issuer: None,
            jwks: None,
            ..options(path)
        },
    ] {
        assert!(Sso::from_options(&partial).await.is_err(), "{partial:?}");
    }
    std::fs::write(file.path(), jwks(&[&json!({"kty": "oct", "k": "AA"})])).unwrap();
    let error = Sso::from_options(&options(path)).await.err().unwrap();
    assert!(format!("{error:#}").contains("no signing key"), "{error:#}");
    let error = Sso::from_options(&options("/nonexistent/jwks.json"))
        .await
        .err()
        .unwrap();
    assert!(
        format!("{error:#}").contains("/nonexistent/jwks.json"),
        "{error:#}"
    );
}

#[test]
fn jwks_urls_are_https_or_loopback() {
    for good in [
        "https://idp.example.com/certs",
        "http://127.0.0.1:8080/jwks",
        "http://[::1]/jwks",
        "http://localhost:9/jwks",
    ] {
        assert!(matches!(source(good), Ok(Source::Url(_))), "{good}");
    }
    assert!(matches!(source("/etc/qlp/jwks.json"), Ok(Source::File(_))));
    for bad in [
        "http://idp.example.com/certs",
        "http://127.0.0.1.nip.io/jwks",
        "http://10.0.0.1/jwks",
        "ftp://idp.example.com/jwks",
        "https://",
    ] {
        assert!(source(bad).is_err(), "{bad}");
    }
}

#[test]
fn only_jwt_shaped_tokens_are_verified_as_tokens() {
    assert!(Sso::looks_like_jwt("a.b.c"));
    assert!(!Sso::looks_like_jwt("qlp_0123456789ab_secret"));
    assert!(!Sso::looks_like_jwt("a.b"));
    assert!(!Sso::looks_like_jwt("a.b.c.d"));
}

#[tokio::test]
async fn keys_are_fetched_from_a_url_and_fetched_again_on_rotation() {
    let first = Signer::p256("one");
    let second = Signer::p256("two");
    let served = Arc::new(RwLock::new(jwks(&[&first.jwk])));
    let app = {
        let served = served.clone();
        axum::Router::new().route(
            "/certs",
            axum::routing::get(move || {
                let body = served.read().unwrap().clone();
                async move { body }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/certs", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sso = Sso::from_options(&options(&url)).await.unwrap().unwrap();
    assert!(sso.verify(&first.sign(&claims())).await.is_ok());
    *served.write().unwrap() = jwks(&[&second.jwk]);
    assert!(sso.verify(&second.sign(&claims())).await.is_ok());
    // The old key left the set.
    assert_eq!(
        sso.verify(&first.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    // A provider that is down keeps the keys in force, and a start
    // against it fails naming the URL.
    let error = Sso::from_options(&options("http://127.0.0.1:9/certs"))
        .await
        .err()
        .unwrap();
    assert!(format!("{error:#}").contains("127.0.0.1:9"), "{error:#}");
}

#[test]
fn every_refusal_has_its_own_code_and_message() {
    let all = [
        Refused::Malformed,
        Refused::UnknownKey,
        Refused::BadSignature,
        Refused::WrongIssuer,
        Refused::WrongAudience,
        Refused::Expired,
        Refused::NotYetValid,
        Refused::UnknownTenant,
    ];
    let codes: BTreeSet<&str> = all.iter().map(|r| r.code()).collect();
    let messages: BTreeSet<&str> = all.iter().map(|r| r.message()).collect();
    assert_eq!((codes.len(), messages.len()), (all.len(), all.len()));
    assert!(
        messages.iter().all(|m| m.starts_with("the token")),
        "{messages:?}"
    );
}

#[tokio::test]
async fn keys_older_than_max_age_are_read_again_even_for_a_known_kid() {
    // A key the provider withdrew stops verifying once the set is stale,
    // though its kid is still known here.
    let withdrawn = Signer::ed25519("old");
    let kept = Signer::ed25519("new");
    let (sso, file) = verifier(&[&withdrawn.jwk, &kept.jwk]).await;
    std::fs::write(file.path(), jwks(&[&kept.jwk])).unwrap();
    // Fresh: the cached set still holds it.
    assert!(sso.verify(&withdrawn.sign(&claims())).await.is_ok());
    let stale = Instant::now() - MAX_AGE - Duration::from_secs(1);
    let set = sso.key_set();
    let keys: Vec<Key> = set
        .keys
        .iter()
        .map(|k| Key {
            kid: k.kid.clone(),
            algs: k.algs.clone(),
            key: k.key.clone(),
        })
        .collect();
    *sso.keys.write().unwrap() = Arc::new(KeySet {
        keys,
        read_at: stale,
    });
    assert_eq!(
        sso.verify(&withdrawn.sign(&claims())).await,
        Err(Refused::UnknownKey)
    );
    assert!(sso.verify(&kept.sign(&claims())).await.is_ok());
}

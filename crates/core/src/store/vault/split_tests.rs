//! The keychain vault over a store with Windows Credential Manager's item limit (2,560 bytes
//! counted as UTF-16): bundles from Microsoft Entra ID are cut into parts, read back whole,
//! and never read half-written.

use super::tests::sample;
use super::*;
use crate::oauth::register::RegistrationMethod;
use crate::store::parts::tests::LimitedStore;
use crate::store::parts::{ItemLimit, ItemStore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::sync::Arc;

const SERVER: &str = "https://mcp.contoso.com/api/mcp";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const API: &str = "api://8d2b7f8e-5a4c-4d1e-9b7a-3c2f1e0d9a8b";

/// Deterministic base64url-looking text of `len` characters.
fn noise(len: usize, seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ALPHABET[(x >> 58) as usize] as char
        })
        .collect()
}

fn guid(seed: u64) -> String {
    let h = noise(32, seed)
        .bytes()
        .map(|b| format!("{:x}", b % 16))
        .collect::<String>();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An access token shaped like Entra ID's v2 JWTs: RS256 header, the usual claims with 24
/// group ids, a 2,048-bit signature.
fn entra_access_token(seed: u64) -> String {
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "kid": noise(27, seed)});
    let groups: Vec<String> = (0..24).map(|i| guid(seed * 100 + i)).collect();
    let claims = serde_json::json!({
        "aud": API, "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        "iat": 1_700_000_000u64, "nbf": 1_700_000_000u64, "exp": 1_700_004_479u64,
        "aio": noise(88, seed + 1), "azp": guid(seed + 2), "azpacr": "0",
        "family_name": "Ngata", "given_name": "Aroha", "groups": groups,
        "name": "Aroha Ngata", "oid": guid(seed + 3), "preferred_username": "aroha@contoso.com",
        "rh": noise(56, seed + 4), "scp": "Mcp.Tools.ReadWrite Mcp.Resources.Read",
        "sid": guid(seed + 5), "sub": noise(43, seed + 6), "tid": TENANT,
        "uti": noise(22, seed + 7), "ver": "2.0", "wids": [guid(seed + 8)],
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        noise(342, seed + 9)
    )
}

/// A bundle as a sign-in at Microsoft Entra ID leaves it: a 2 KB+ JWT, a 1,000-byte refresh
/// token, long scopes, a pre-registered public client.
fn entra_bundle(seed: u64) -> CredentialBundle {
    let mut b = sample(SERVER);
    let issuer = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
    b.issuer = issuer.clone();
    b.authorization_endpoint =
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/authorize");
    b.token_endpoint = format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token");
    b.client.method = RegistrationMethod::PreRegistered;
    b.client.issuer = issuer;
    b.client.client_id = guid(seed + 20);
    b.client.redirect_uris = vec!["http://127.0.0.1:33418/callback".into()];
    b.client.registration_access_token = None;
    let scopes: Vec<String> = vec![
        format!("{API}/Mcp.Tools.ReadWrite"),
        format!("{API}/Mcp.Resources.Read"),
        format!("{API}/Mcp.Prompts.Read"),
        "openid".into(),
        "profile".into(),
        "email".into(),
        "offline_access".into(),
    ];
    b.tokens.access_token = Secret::new(entra_access_token(seed));
    b.tokens.refresh_token = Some(Secret::new(format!("1.AXoA{}", noise(996, seed + 30))));
    b.tokens.scopes = scopes.clone();
    b.requested_scopes = scopes;
    b.names = vec!["contoso".into()];
    b
}

/// A vault over a fresh fake with Windows's item limit, and a handle on the fake.
fn vault(tag: &str) -> (KeyringStore, Arc<LimitedStore>) {
    let fake = Arc::new(LimitedStore::windows());
    let service = format!("latchkey-split-test-{tag}-{}", std::process::id());
    (
        KeyringStore::with_items(service, Box::new(fake.clone())),
        fake,
    )
}

fn part_count(fake: &LimitedStore, id: &str) -> usize {
    let prefix = format!("{id}#part:");
    fake.snapshot()
        .keys()
        .filter(|k| k.starts_with(&prefix))
        .count()
}

#[test]
fn an_entra_bundle_round_trips_in_parts_that_each_fit() {
    let (store, fake) = vault("entra");
    let b = entra_bundle(1);
    assert!(b.tokens.access_token.expose().len() > 2000);
    let json = serde_json::to_string(&b).unwrap();
    let limit = ItemLimit::WINDOWS_CREDENTIAL_MANAGER;
    assert!(!limit.fits(&json));
    store.save(&b).unwrap();
    eprintln!(
        "Entra-like bundle: {} bytes of JSON ({} counted as UTF-16), access token {} bytes: {} parts",
        json.len(),
        limit.size_of(&json),
        b.tokens.access_token.expose().len(),
        part_count(&fake, &b.server_id)
    );
    for (account, value) in fake.snapshot() {
        assert!(
            limit.fits(&value),
            "{account}: {} bytes",
            limit.size_of(&value)
        );
    }
    // 1,280 ASCII characters per item.
    let parts = json.len().div_ceil(1280);
    assert_eq!(part_count(&fake, &b.server_id), parts);
    assert_eq!(store.load(&b.server_id).unwrap(), Some(b.clone()));
    assert_eq!(named(&store, "contoso").unwrap(), b.server_id);
    // The record holds no secret.
    let record = &fake.snapshot()[&b.server_id];
    assert!(record.len() < 200 && !record.contains("1.AXoA"), "{record}");

    // Renewed: the new tokens replace the old parts.
    let mut renewed = entra_bundle(2);
    renewed.updated_at += 3600;
    store.save(&renewed).unwrap();
    assert_eq!(store.load(&b.server_id).unwrap(), Some(renewed.clone()));
    let renewed_len = serde_json::to_string(&renewed).unwrap().len();
    assert_eq!(part_count(&fake, &b.server_id), renewed_len.div_ceil(1280));

    // Deleted: its parts go with it; the index is one small item again.
    assert!(store.delete(&b.server_id).unwrap());
    assert_eq!(store.load(&b.server_id).unwrap(), None);
    let left: Vec<String> = fake.snapshot().into_keys().collect();
    assert_eq!(left, [INDEX_ACCOUNT], "{left:?}");
}

#[test]
fn a_small_bundle_stays_one_item() {
    let (store, fake) = vault("small");
    let b = sample("https://example.com/mcp");
    store.save(&b).unwrap();
    let items = fake.snapshot();
    assert_eq!(
        items.len(),
        2,
        "the bundle and the index: {:?}",
        items.keys()
    );
    let stored: serde_json::Value = serde_json::from_str(&items[&b.server_id]).unwrap();
    assert_eq!(stored["tokens"]["refresh_token"], "rt-secret-value");
    assert_eq!(store.load(&b.server_id).unwrap(), Some(b.clone()));
    store.delete(&b.server_id).unwrap();
}

#[test]
fn a_missing_part_reads_as_not_signed_in() {
    let (store, fake) = vault("missing");
    let b = entra_bundle(3);
    store.save(&b).unwrap();
    let part = format!(
        "{}#part:",
        b.server_id // the parts of the one generation stored
    );
    let victim = fake
        .snapshot()
        .into_keys()
        .filter(|k| k.starts_with(&part))
        .nth(2)
        .unwrap();
    fake.delete(&victim).unwrap();
    // `Ok(None)` is what every caller turns into `Error::NotSignedIn` (renew.rs, `load`).
    assert_eq!(store.load(&b.server_id).unwrap(), None);
    // Still listed, and a new sign-in replaces the remains.
    assert_eq!(store.list().unwrap().len(), 1);
    store.save(&b).unwrap();
    assert_eq!(store.load(&b.server_id).unwrap(), Some(b.clone()));
    store.delete(&b.server_id).unwrap();
}

/// A save killed after each of its keychain writes, for every k: the bundle read back is the
/// old one or the new one, whole; with no old bundle, none or the new one.
#[test]
fn a_save_killed_at_every_step_loads_the_old_or_the_new_bundle() {
    let old = entra_bundle(4);
    let mut new = entra_bundle(5);
    new.updated_at += 3600;
    let small = sample(SERVER);
    let cases = [
        (None, new.clone()),
        (Some(old.clone()), new.clone()),
        (Some(small.clone()), new.clone()),
        (Some(old.clone()), small.clone()),
    ];
    for (i, (before, after)) in cases.into_iter().enumerate() {
        let mut k = 0;
        loop {
            let (store, fake) = vault(&format!("kill-{i}-{k}"));
            if let Some(b) = &before {
                store.save(b).unwrap();
            }
            fake.die_after(Some(k));
            let result = store.save(&after);
            let killed = fake.refused();
            fake.die_after(None);
            let got = store.load(SERVER).unwrap();
            assert!(
                got == before || got.as_ref() == Some(&after),
                "case {i}, killed after {k} writes: neither the old nor the new bundle"
            );
            if result.is_ok() {
                assert_eq!(got.as_ref(), Some(&after), "case {i}, killed after {k}");
            }
            if !killed {
                store.delete(SERVER).unwrap();
                break;
            }
            store.delete(SERVER).unwrap();
            k += 1;
            assert!(k < 40, "case {i}: the save never finished");
        }
        eprintln!("case {i}: a save of {k} keychain writes, killed after each");
    }
}

/// The index (`latchkey:index`) goes through the same parts: with many servers and names it
/// outgrows one item, and still lists every server.
#[test]
fn the_index_of_many_servers_is_split_too() {
    let (store, fake) = vault("index");
    let limit = ItemLimit::WINDOWS_CREDENTIAL_MANAGER;
    for i in 0..30 {
        let mut b = sample(&format!("https://server-{i}.tools.example.com/api/v2/mcp"));
        b.names = vec![format!("team-tools-server-{i}"), format!("tools{i}")];
        store.save(&b).unwrap();
    }
    let index = fake.snapshot();
    let index_parts = index
        .keys()
        .filter(|k| k.starts_with("latchkey:index#part:"))
        .count();
    assert!(index_parts >= 2, "{:?}", index.keys());
    assert!(index.values().all(|v| limit.fits(v)));
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 30);
    assert_eq!(
        named(&store, "tools17").unwrap(),
        "https://server-17.tools.example.com/api/v2/mcp"
    );
    for i in 0..30 {
        store
            .delete(&format!("https://server-{i}.tools.example.com/api/v2/mcp"))
            .unwrap();
    }
    assert_eq!(
        fake.snapshot().into_keys().collect::<Vec<_>>(),
        [INDEX_ACCOUNT]
    );
    assert!(store.list().unwrap().is_empty());
}

/// The id of the server stored under `name`, as the index lists it.
fn named(store: &dyn CredentialStore, name: &str) -> Option<String> {
    store
        .list()
        .unwrap()
        .into_iter()
        .find(|e| e.names.iter().any(|n| n == name))
        .map(|e| e.id)
}

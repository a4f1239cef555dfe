//! `paraphe-demo-portal`: what agents do, on a small portal on loopback. Log in with the
//! card (nonce from the server, token checked by `paraphe-verifier`), sign a délibération
//! (markup only, no script), sign a parapheur batch (client library). It uses only
//! Paraphe's public page API (`docs/PAGE-API.md`).
//!
//! `paraphe-demo-portal --listen 127.0.0.1:8090 --trust-ca tests/kit/…/ca.crt`

mod pages;

use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use paraphe_protocol::command::AuthToken;
use paraphe_verifier::{DocumentScheme, Identity, NonceStore, Verifier};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A document waiting for signature.
pub struct Document {
    pub id: usize,
    pub title: String,
    pub body: Vec<u8>,
}

impl Document {
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.body))
    }
}

pub struct App {
    pub origin: String,
    verifier: Verifier,
    nonces: NonceStore,
    /// Session cookie → who logged in.
    logins: Mutex<HashMap<String, Identity>>,
    pub documents: Vec<Document>,
    /// Document id → who signed it.
    pub signed: Mutex<HashMap<usize, String>>,
}

type Shared = Arc<App>;

const COOKIE: &str = "paraphe_demo";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn documents() -> Vec<Document> {
    let mut docs = vec![Document {
        id: 0,
        title: "Délibération n° 2026-118 — budget primitif".into(),
        body: "CONSEIL MUNICIPAL DE TESTVILLE\nSéance du 20 novembre 2026\n\nDélibération n° 2026-118\nObjet : budget primitif 2027\n\nLe conseil municipal, après en avoir délibéré, adopte le budget primitif 2027.\n".as_bytes().to_vec(),
    }];
    for i in 1..=12 {
        docs.push(Document {
            id: i,
            title: format!("Arrêté n° 2026-{:03} — voirie", 200 + i),
            body: format!("Arrêté n° 2026-{:03}\nLe maire de Testville arrête la circulation rue n° {i}.\n", 200 + i)
                .into_bytes(),
        });
    }
    docs
}

fn who(app: &App, headers: &HeaderMap) -> Option<Identity> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = cookies.split(';').map(str::trim).find_map(|c| c.strip_prefix(&format!("{COOKIE}=")))?;
    app.logins.lock().unwrap_or_else(PoisonError::into_inner).get(value).cloned()
}

async fn home(State(app): State<Shared>, headers: HeaderMap) -> Html<String> {
    Html(pages::home(who(&app, &headers).as_ref()))
}

async fn login_page() -> Html<String> {
    Html(pages::login())
}

async fn challenge(State(app): State<Shared>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "nonce": app.nonces.issue() }))
}

#[derive(Deserialize)]
struct LoginRequest {
    token: AuthToken,
    nonce: String,
}

async fn login(State(app): State<Shared>, Json(req): Json<LoginRequest>) -> Response {
    match app.verifier.verify(&req.token, &req.nonce, &app.nonces, now()) {
        Ok(identity) => {
            let cookie = app.nonces.issue().replace(['+', '/', '='], "");
            let name = identity.common_name.clone().unwrap_or_else(|| identity.subject.clone());
            app.logins.lock().unwrap_or_else(PoisonError::into_inner).insert(cookie.clone(), identity);
            let set = format!("{COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/");
            ([(header::SET_COOKIE, set)], Json(serde_json::json!({ "ok": true, "name": name }))).into_response()
        }
        Err(e) => {
            (StatusCode::UNAUTHORIZED, Json(serde_json::json!({ "ok": false, "error": e.to_string() }))).into_response()
        }
    }
}

async fn deliberation(State(app): State<Shared>, headers: HeaderMap) -> Response {
    match who(&app, &headers) {
        Some(user) => Html(pages::deliberation(&app, &user)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct SignedForm {
    signature: String,
    certificate: String,
}

fn check(app: &App, doc: &Document, signature: &str, certificate: &str) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let sig = b64.decode(signature.trim()).map_err(|e| format!("signature illisible : {e}"))?;
    let cert = b64.decode(certificate.trim()).map_err(|e| format!("certificat illisible : {e}"))?;
    let id = app
        .verifier
        .verify_document_signature(
            &cert,
            &doc.body,
            &sig,
            DocumentScheme::default_for(&cert).map_err(|e| e.to_string())?,
            now(),
        )
        .map_err(|e| e.to_string())?;
    let name = id.common_name.unwrap_or(id.subject);
    app.signed.lock().unwrap_or_else(PoisonError::into_inner).insert(doc.id, name.clone());
    Ok(name)
}

async fn deliberation_signed(State(app): State<Shared>, headers: HeaderMap, Form(form): Form<SignedForm>) -> Response {
    let Some(user) = who(&app, &headers) else {
        return Redirect::to("/login").into_response();
    };
    let outcome = check(&app, &app.documents[0], &form.signature, &form.certificate);
    Html(pages::signed_result(&app.documents[0], &outcome, &user)).into_response()
}

async fn parapheur(State(app): State<Shared>, headers: HeaderMap) -> Response {
    match who(&app, &headers) {
        Some(user) => Html(pages::parapheur(&app, &user)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct BatchItem {
    id: usize,
    signature: String,
}

#[derive(Deserialize)]
struct Batch {
    certificate: String,
    signatures: Vec<BatchItem>,
}

async fn parapheur_signed(State(app): State<Shared>, headers: HeaderMap, Json(batch): Json<Batch>) -> Response {
    if who(&app, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let results: Vec<serde_json::Value> = batch
        .signatures
        .iter()
        .map(|item| match app.documents.get(item.id) {
            Some(doc) => match check(&app, doc, &item.signature, &batch.certificate) {
                Ok(name) => serde_json::json!({ "id": item.id, "ok": true, "signer": name }),
                Err(e) => serde_json::json!({ "id": item.id, "ok": false, "error": e }),
            },
            None => serde_json::json!({ "id": item.id, "ok": false, "error": "document inconnu" }),
        })
        .collect();
    Json(serde_json::json!({ "results": results })).into_response()
}

async fn document(State(app): State<Shared>, Path(id): Path<usize>) -> Response {
    match app.documents.get(id) {
        Some(d) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], d.body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn client_library() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../../extension/src/page/paraphe.js"))
        .into_response()
}

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page))
        .route("/api/challenge", get(challenge))
        .route("/api/login", post(login))
        .route("/deliberation", get(deliberation).post(deliberation_signed))
        .route("/parapheur", get(parapheur))
        .route("/api/parapheur/sign", post(parapheur_signed))
        .route("/documents/{id}", get(document))
        .route("/js/paraphe.js", get(client_library))
        .with_state(app)
}

struct Options {
    listen: String,
    origin: Option<String>,
    trust: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options { listen: "127.0.0.1:8090".into(), origin: None, trust: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--listen" => o.listen = value()?,
            "--origin" => o.origin = Some(value()?),
            "--trust-ca" => o.trust.push(value()?),
            "-h" | "--help" => {
                return Err("usage: paraphe-demo-portal [--listen ADDR:PORT] [--origin URL] --trust-ca CA.pem…".into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if o.trust.is_empty() {
        return Err("--trust-ca is required (the CA that issues the agents' certificates)".into());
    }
    Ok(o)
}

fn read_ca(path: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    if !text.contains("-----BEGIN") {
        return Ok(bytes);
    }
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).map_err(|e| format!("{path}: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("paraphe-demo-portal: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let cas: Result<Vec<Vec<u8>>, String> = o.trust.iter().map(|p| read_ca(p)).collect();
    let cas = match cas {
        Ok(c) => c,
        Err(e) => {
            eprintln!("paraphe-demo-portal: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&o.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("paraphe-demo-portal: {}: {e}", o.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(o.listen.clone());
    let origin = o.origin.unwrap_or_else(|| format!("http://{addr}"));
    let app = Arc::new(App {
        verifier: Verifier::new(origin.clone(), cas),
        origin: origin.clone(),
        nonces: NonceStore::default(),
        logins: Mutex::new(HashMap::new()),
        documents: documents(),
        signed: Mutex::new(HashMap::new()),
    });
    eprintln!("paraphe-demo-portal: {origin}/ (listening on {addr})");
    let serve = axum::serve(listener, router(app)).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    match serve.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paraphe-demo-portal: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

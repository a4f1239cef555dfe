//! The portal's pages: plain HTML, French, one small script per page at most.

use crate::{App, Document};
use paraphe_verifier::Identity;
use std::sync::PoisonError;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn layout(title: &str, user: Option<&Identity>, body: &str) -> String {
    let who = match user {
        Some(u) => format!("Connecté : <b id=\"who\">{}</b>", esc(u.common_name.as_deref().unwrap_or(&u.subject))),
        None => "<a href=\"/login\">Se connecter</a>".to_owned(),
    };
    format!(
        r##"<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{title} — Portail de démonstration Paraphe</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#1b1b35;background:#f6f6f6}}
header{{background:#000091;color:#fff;padding:.8em 1.5em;display:flex;justify-content:space-between;align-items:center}}
header a{{color:#fff}} main{{max-width:60em;margin:1.5em auto;background:#fff;padding:1.5em 2em;border-radius:6px}}
pre{{background:#f0f0f8;padding:1em;white-space:pre-wrap}} table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ddd;padding:.4em;text-align:left}} .ok{{color:#18753c}} .ko{{color:#ce0500}}
button,.paraphe-sign-button{{background:#000091;color:#fff;border:0;padding:.6em 1.2em;border-radius:4px;font-size:1em;cursor:pointer}}
</style></head>
<body><header><span><b>Mairie de Testville</b> · portail de démonstration</span><span>{who}</span></header>
<main><h1>{title}</h1>{body}</main></body></html>"##,
        title = esc(title)
    )
}

pub fn home(user: Option<&Identity>) -> String {
    let body = if user.is_some() {
        r##"<ul><li><a href="/deliberation">Signer une délibération</a> (signature d'un acte pour le contrôle de légalité)</li>
<li><a href="/parapheur">Parapheur</a> : signer plusieurs documents en une fois</li></ul>"##
    } else {
        r##"<p>Connectez-vous avec votre carte d'agent pour accéder aux actes à signer.</p>
<p><a href="/login"><button>Se connecter avec ma carte</button></a></p>"##
    };
    layout("Accueil", user, body)
}

pub fn login() -> String {
    let body = r##"<p>La connexion utilise le certificat d'authentification de votre carte. Le portail envoie
un défi ; votre carte le signe, liée à l'adresse de ce site : une page d'hameçonnage ne pourrait pas s'en servir.</p>
<p><button id="login">Se connecter avec ma carte</button></p>
<p id="status" role="status"></p>
<script type="module">
import * as paraphe from '/js/paraphe.js';
const status = document.getElementById('status');
document.getElementById('login').addEventListener('click', async () => {
  status.textContent = 'Confirmez dans la fenêtre Paraphe…';
  try {
    const { nonce } = await (await fetch('/api/challenge')).json();
    const token = await paraphe.authenticate({ challengeNonce: nonce });
    const r = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' },
                                          body: JSON.stringify({ token, nonce }) });
    const answer = await r.json();
    if (!answer.ok) throw new Error(answer.error);
    status.innerHTML = '<span class="ok">Bienvenue, ' + answer.name.replace(/[<&]/g, '') + '.</span> <a href="/">Continuer</a>';
    document.body.dataset.loggedIn = answer.name;
  } catch (e) {
    status.innerHTML = '<span class="ko"></span>';
    status.firstChild.textContent = 'Échec : ' + (e.code ? e.code + ' — ' : '') + e.message;
    document.body.dataset.loginError = e.code || e.message;
  }
});
</script>"##;
    layout("Connexion", None, body)
}

/// Markup only: the extension adds the « Signer avec ma carte » button and fills the fields.
pub fn deliberation(app: &App, user: &Identity) -> String {
    let doc = &app.documents[0];
    let body = format!(
        r##"<p>Document : <a href="/documents/0">{title}</a> — SHA-256 <code>{hash}</code></p>
<pre>{text}</pre>
<form method="post" action="/deliberation" id="sign-form"
      data-paraphe-sign data-paraphe-hash="{hash}" data-paraphe-hash-alg="sha256"
      data-paraphe-name="{title}" data-paraphe-target="#signature" data-paraphe-certificate-target="#certificate">
  <input type="hidden" name="signature" id="signature">
  <input type="hidden" name="certificate" id="certificate">
  <p><button type="submit" id="send">Transmettre l'acte signé</button></p>
</form>"##,
        title = esc(&doc.title),
        hash = doc.sha256_hex(),
        text = esc(&String::from_utf8_lossy(&doc.body)),
    );
    layout("Délibération à signer", Some(user), &body)
}

pub fn signed_result(doc: &Document, outcome: &Result<String, String>, user: &Identity) -> String {
    let body = match outcome {
        Ok(name) => format!(
            r##"<p class="ok" id="result" data-ok="true">« {} » est signé par <b>{}</b> ; la signature a été vérifiée par le portail.</p><p><a href="/">Accueil</a></p>"##,
            esc(&doc.title),
            esc(name)
        ),
        Err(e) => format!(
            r##"<p class="ko" id="result" data-ok="false">Signature refusée : {}</p><p><a href="/deliberation">Recommencer</a></p>"##,
            esc(e)
        ),
    };
    layout("Résultat", Some(user), &body)
}

pub fn parapheur(app: &App, user: &Identity) -> String {
    let signed = app.signed.lock().unwrap_or_else(PoisonError::into_inner);
    let rows: String = app
        .documents
        .iter()
        .skip(1)
        .map(|d| {
            let state = signed.get(&d.id).map_or("à signer".to_owned(), |n| format!("signé par {}", esc(n)));
            format!(
                r##"<tr data-id="{id}" data-hash="{hash}" data-name="{title}"><td><input type="checkbox" checked></td><td><a href="/documents/{id}">{title}</a></td><td class="state">{state}</td></tr>"##,
                id = d.id,
                hash = d.sha256_hex(),
                title = esc(&d.title),
            )
        })
        .collect();
    let body = format!(
        r##"<p>Documents en attente de votre signature. Une seule confirmation et un seul code PIN pour toute la sélection.</p>
<table><thead><tr><th></th><th>Document</th><th>État</th></tr></thead><tbody>{rows}</tbody></table>
<p><button id="sign-all">Signer la sélection</button> <span id="status" role="status"></span></p>
<script type="module">
import * as paraphe from '/js/paraphe.js';
const status = document.getElementById('status');
document.getElementById('sign-all').addEventListener('click', async () => {{
  const rows = [...document.querySelectorAll('tbody tr')].filter(r => r.querySelector('input').checked);
  status.textContent = 'Confirmez dans la fenêtre Paraphe…';
  try {{
    const r = await paraphe.signHash({{ hashes: rows.map(r => ({{ digest: r.dataset.hash, hashAlgorithm: 'sha256', name: r.dataset.name }})) }});
    const body = {{ certificate: r.certificate.certificate,
                   signatures: r.signatures.map((s, i) => ({{ id: Number(rows[i].dataset.id), signature: s.signature }})) }};
    const answer = await (await fetch('/api/parapheur/sign', {{ method: 'POST', headers: {{ 'content-type': 'application/json' }}, body: JSON.stringify(body) }})).json();
    let ok = 0;
    for (const res of answer.results) {{
      const row = document.querySelector(`tr[data-id="${{res.id}}"] .state`);
      row.textContent = res.ok ? 'signé par ' + res.signer : 'refusé : ' + res.error;
      row.className = 'state ' + (res.ok ? 'ok' : 'ko');
      if (res.ok) ok++;
    }}
    status.textContent = ok + ' document(s) signé(s) et vérifié(s).';
    document.body.dataset.signedCount = ok;
  }} catch (e) {{
    status.textContent = 'Échec : ' + (e.code ? e.code + ' — ' : '') + e.message;
    document.body.dataset.signError = e.code || e.message;
  }}
}});
</script>"##
    );
    layout("Parapheur", Some(user), &body)
}

//! The command line, for administrators, scripts and tests. It runs the same commands as
//! native messaging, through the same dispatcher. Human output is French or English (from
//! `LC_ALL` / `LC_MESSAGES` / `LANG`); `--json` output is stable.

use crate::commands::login::LoginKeys;
use crate::dispatch::{to_wire, Host};
use crate::error::{Error, Result};
use crate::{config, token};
use paraphe_protocol::cert::{CertificateEntry, KeyPresence, Usage};
use paraphe_protocol::command::{
    CertificateList, LoginArgs, LoginResult, LogoutArgs, NoArguments, SignArgs, SignResult, StatusResult,
};
use paraphe_protocol::{EcdsaEncoding, HashAlgorithm, LoginPurpose, Pin, SignatureScheme};
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use zeroize::Zeroizing;

pub enum Invocation {
    Native { caller: &'static str, modules: Vec<PathBuf> },
    Cli(Cli),
}

pub struct Cli {
    modules: Vec<PathBuf>,
    json: bool,
    action: Action,
}

enum Action {
    List,
    Diagnose,
    /// `tls-status` / `tls-register` (Chromium's NSS database on Linux).
    Tls {
        register: bool,
    },
    Sign(SignOptions),
    Version,
    Help,
    /// `man` (hidden): the man page, paraphe-host.1, on standard output.
    Man,
}

struct SignOptions {
    cert: String,
    hash: HashAlgorithm,
    digest_hex: String,
    pss: bool,
    ecdsa_der: bool,
    pin_stdin: bool,
    /// Sign with a key whose certificate can log in (see `sign`).
    allow_login_key: bool,
    out: Option<PathBuf>,
}

/// The command line's grammar (clap). The help text is ours, French or English
/// ([`USAGE_FR`], [`USAGE_EN`]): clap parses, `help` prints. The English `about`/`help`
/// strings below are for the man page only ([`man_page`], clap_mangen); keep them in step
/// with [`USAGE_EN`].
fn grammar() -> clap::Command {
    use clap::{Arg, ArgAction, Command};
    let flag = |name: &'static str, help: &'static str| Arg::new(name).long(name).action(ArgAction::SetTrue).help(help);
    let value = |name: &'static str, unit: &'static str, help: &'static str| {
        Arg::new(name).long(name).action(ArgAction::Set).value_name(unit).help(help)
    };
    // On the command and on each subcommand (not clap's `global`, whose values from a
    // subcommand replace the command's): `--module` repeats anywhere.
    let common = |c: Command| {
        c.disable_help_flag(true)
            .disable_version_flag(true)
            .arg(
                Arg::new("module")
                    .long("module")
                    .action(ArgAction::Append)
                    .value_parser(clap::value_parser!(PathBuf))
                    .value_name("PATH")
                    .help("Add a PKCS#11 module (repeatable)"),
            )
            .arg(flag("json", "Print JSON (stable) instead of text"))
            .arg(flag("help", "Print the usage, in French or English after LC_ALL, LC_MESSAGES, LANG").short('h'))
    };
    let sign = Command::new("sign")
        .about(
            "Sign a digest; a key whose certificate can log in (authentication, dual use) only with \
             --allow-login-key: such a signature over the right digest is a login to a web site",
        )
        .args([
            value("cert", "FINGERPRINT", "The certificate's SHA-256 fingerprint (hex)"),
            value("hash-alg", "ALG", "The digest's hash: sha256 (default), sha384 or sha512"),
            value("digest", "HEX", "The digest to sign (hex)"),
            value("out", "FILE", "Write the signature there").value_parser(clap::value_parser!(PathBuf)),
            flag("pss", "RSA-PSS instead of PKCS#1 v1.5"),
            flag("ecdsa-der", "ECDSA signature in DER instead of r||s"),
            flag("pin-stdin", "Read the PIN from the first line of standard input"),
            flag("allow-login-key", "Sign with a key whose certificate can log in"),
        ]);
    let plain = [
        ("native", "Speak native messaging on standard input and output"),
        ("list", "List the certificates on every token"),
        ("diagnose", "Show modules, tokens, PIN state, certificates"),
        (
            "tls-status",
            "Show the modules in Chromium's NSS database (Linux, ~/.pki/nssdb), for TLS client authentication",
        ),
        ("tls-register", "Add the modules to Chromium's NSS database (Linux, ~/.pki/nssdb)"),
        ("version", "Print the version"),
        ("help", "Print the usage"),
    ]
    .map(|(name, about)| Command::new(name).about(about));
    let man = Command::new("man").hide(true);
    common(Command::new("paraphe-host"))
        .about("Paraphe's smart-card host (native messaging and command line)")
        .long_about(
            "paraphe-host is the only part of Paraphe that touches the smart card. Browsers start it \
             through native messaging (the Paraphe extension talks to it on standard input and output); it \
             loads the PKCS#11 module of the card's middleware and signs digests after the user typed the \
             PIN in the extension's consent window. The command line runs the same commands through the \
             same dispatcher, for administrators, scripts and tests.",
        )
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(true)
        .arg(flag("version", "Print the version").short('V'))
        .subcommands(plain.into_iter().chain([sign, man]).map(common))
}

/// The man page's sections clap does not know: files, environment, see also (roff).
const MAN_TAIL: &str = r#".SH FILES
.TP
.I ~/.config/paraphe/config.json
.TQ
.I /etc/paraphe/config.json
Configuration: extra PKCS#11 modules
.RB ( modules ),
whether to probe the built-in middleware list
.RB ( builtinModules ),
certificate policies. The administrator's file and the user's are both read; the
user's adds to the administrator's and never undoes it (its modules come after,
.B builtinModules
false in either wins, a policy entry overlapping one of the administrator's is ignored).
.B PARAPHE_CONFIG
names the user's file.
.TP
.I /etc/chromium/native-messaging-hosts/fr.paraphe.host.json
.TQ
.I /usr/lib/mozilla/native-messaging-hosts/fr.paraphe.host.json
Where browsers find the host (see also
.IR /etc/opt/chrome " and " /etc/opt/edge ).
.SH ENVIRONMENT
.B PARAPHE_PKCS11_MODULES
(module paths, colon-separated),
.BR PARAPHE_CONFIG ,
.B PARAPHE_LOG
(error, warn, info, debug),
.BR PARAPHE_LOG_FILE .
.SH SEE ALSO
.BR paraphe-deploy (8)
"#;

/// Writes the man page `paraphe-host.1` (roff) from the grammar (`paraphe-host man`): name,
/// synopsis, description, options (clap_mangen), then each command with its own options, then
/// [`MAN_TAIL`].
pub fn man_page(out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = grammar();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    // Our title line: clap_mangen's, with no date, would shift the source into the date's place.
    writeln!(out, ".TH PARAPHE-HOST 1 \"\" \"Paraphe {}\" \"User Commands\"", env!("CARGO_PKG_VERSION"))?;
    let mut page = Vec::new();
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    // Each section rendered alone starts with clap_mangen's two-line `Aq` definition: once is enough.
    let mut seen = std::collections::HashSet::new();
    for line in String::from_utf8_lossy(&page).lines() {
        if !(line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq")) || seen.insert(line.to_owned()) {
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        writeln!(out, ".TP\n.B {}", roff_text(sub.get_name()))?;
        if let Some(about) = sub.get_about() {
            writeln!(out, "{}", roff_text(&about.to_string()))?;
        }
        // The options every command takes are above; the command's own ones here.
        let own: Vec<_> =
            sub.get_arguments().filter(|a| !["module", "json", "help"].contains(&a.get_id().as_str())).collect();
        if own.is_empty() {
            continue;
        }
        writeln!(out, ".RS")?;
        for arg in own {
            let long = roff_text(&format!("--{}", arg.get_long().unwrap_or_default()));
            let unit =
                arg.get_value_names().and_then(|v| v.first()).map(|v| format!(" \\fI{v}\\fR")).unwrap_or_default();
            let help = arg.get_help().map(|h| roff_text(&h.to_string())).unwrap_or_default();
            writeln!(out, ".TP\n\\fB{long}\\fR{unit}\n{help}")?;
        }
        writeln!(out, ".RE")?;
    }
    out.write_all(MAN_TAIL.as_bytes())
}

/// `text` as roff running text: backslashes and hyphens escaped, no line read as a request.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// What went wrong on the command line, in our words.
fn usage_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        _ => String::new(),
    };
    let arg = context(ContextKind::InvalidArg);
    // `--module <module>` → `--module`.
    let option = arg.split_whitespace().next().unwrap_or_default().to_owned();
    match e.kind() {
        ErrorKind::InvalidSubcommand => format!("unknown command {}", context(ContextKind::InvalidSubcommand)),
        ErrorKind::UnknownArgument if arg.starts_with('-') => format!("unknown option {option}"),
        ErrorKind::UnknownArgument => format!("unexpected argument {arg}"),
        ErrorKind::InvalidValue | ErrorKind::NoEquals => format!("{option} needs a value"),
        ErrorKind::ArgumentConflict => format!("{option} is given twice"),
        _ => e.kind().as_str().map_or_else(|| "invalid command line".to_owned(), str::to_owned),
    }
}

/// Tells a browser launch from a person's, and parses the latter.
pub fn parse(args: &[String]) -> std::result::Result<Invocation, String> {
    if let Some(caller) = browser_caller(args) {
        return Ok(Invocation::Native { caller, modules: Vec::new() });
    }
    let matches = grammar()
        .try_get_matches_from(std::iter::once("paraphe-host".to_owned()).chain(args.iter().cloned()))
        .map_err(|e| usage_message(&e))?;
    let (name, sub) = match matches.subcommand() {
        Some((name, sub)) => (name, Some(sub)),
        None => ("", None),
    };
    let modules: Vec<PathBuf> = [Some(&matches), sub]
        .into_iter()
        .flatten()
        .flat_map(|m| m.get_many::<PathBuf>("module").into_iter().flatten().cloned())
        .collect();
    let on = |flag: &str| matches.get_flag(flag) || sub.is_some_and(|m| m.get_flag(flag));
    let json = on("json");
    let action = match name {
        _ if on("help") => Action::Help,
        "" if matches.get_flag("version") => Action::Version,
        "native" => return Ok(Invocation::Native { caller: "cli", modules }),
        "list" => Action::List,
        "diagnose" => Action::Diagnose,
        "tls-status" => Action::Tls { register: false },
        "tls-register" => Action::Tls { register: true },
        "version" => Action::Version,
        "man" => Action::Man,
        "sign" => {
            let m = sub.ok_or("sign needs --cert <fingerprint>")?;
            let opt = |name: &str| m.get_one::<String>(name).cloned();
            let hash_name = opt("hash-alg").unwrap_or_else(|| "sha256".into());
            Action::Sign(SignOptions {
                cert: opt("cert").ok_or("sign needs --cert <fingerprint>")?,
                hash: HashAlgorithm::from_name(&hash_name).ok_or(format!("unknown hash algorithm {hash_name}"))?,
                digest_hex: opt("digest").ok_or("sign needs --digest <hex>")?,
                pss: m.get_flag("pss"),
                ecdsa_der: m.get_flag("ecdsa-der"),
                pin_stdin: m.get_flag("pin-stdin"),
                allow_login_key: m.get_flag("allow-login-key"),
                out: m.get_one::<PathBuf>("out").cloned(),
            })
        }
        _ => Action::Help,
    };
    Ok(Invocation::Cli(Cli { modules, json, action }))
}

/// Which browser started the host, from its arguments, or `None` for a person's command line.
/// - Chromium, Chrome, Edge, Brave: `chrome-extension://ID/`; on Windows followed by
///   `--parent-window=N` (the browser window's handle, for dialogs; the host opens none).
/// - Firefox: the path of the host manifest, then the extension id (`paraphe@paraphe.fr` or a
///   `{uuid}`); on Windows the path is the manifest the registry key names, `C:\...\x.json`.
fn browser_caller(args: &[String]) -> Option<&'static str> {
    match args {
        // Later arguments are the browser's (a person never types an origin first).
        [origin, ..] if origin.starts_with("chrome-extension://") => Some("chromium"),
        [manifest, id]
            if manifest.to_ascii_lowercase().ends_with(".json") && (id.contains('@') || id.starts_with('{')) =>
        {
            Some("firefox")
        }
        _ => None,
    }
}

fn french() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| v.starts_with("fr"))
}

/// `fr` or `en` text.
fn t(fr: &'static str, en: &'static str) -> &'static str {
    if french() {
        fr
    } else {
        en
    }
}

const USAGE_EN: &str = "\
paraphe-host: Paraphe's smart-card host (native messaging + command line)

Usage:
  paraphe-host list [--json]                  certificates on every token
  paraphe-host sign --cert <sha256 fingerprint> --digest <hex>
               [--hash-alg sha256|sha384|sha512] [--pss] [--ecdsa-der]
               [--pin-stdin] [--allow-login-key] [--out FILE] [--json]
                                              sign a digest; a key whose certificate can
                                              log in (authentication, dual use) only with
                                              --allow-login-key: such a signature over the
                                              right digest is a login to a web site
  paraphe-host diagnose [--json]              modules, tokens, PIN state, certificates
  paraphe-host tls-status|tls-register [--json]
                                              modules in Chromium's NSS database (Linux,
                                              ~/.pki/nssdb), for TLS client authentication
  paraphe-host native                         speak native messaging on stdin/stdout
  paraphe-host version
Every command takes --module PATH (repeatable) to add a PKCS#11 module.
Environment: PARAPHE_PKCS11_MODULES (path list), PARAPHE_CONFIG (config file),
PARAPHE_LOG (error|warn|info|debug), PARAPHE_LOG_FILE.
";

const USAGE_FR: &str = "\
paraphe-host : l'hôte carte à puce de Paraphe (native messaging + ligne de commande)

Usage :
  paraphe-host list [--json]                  certificats de tous les jetons
  paraphe-host sign --cert <empreinte sha256> --digest <hex>
               [--hash-alg sha256|sha384|sha512] [--pss] [--ecdsa-der]
               [--pin-stdin] [--allow-login-key] [--out FICHIER] [--json]
                                              signer une empreinte ; avec une clé dont le
                                              certificat permet de se connecter
                                              (authentification, double usage), seulement
                                              avec --allow-login-key : une telle signature
                                              de la bonne empreinte vaut connexion à un site
  paraphe-host diagnose [--json]              modules, jetons, état du PIN, certificats
  paraphe-host tls-status|tls-register [--json]
                                              modules dans la base NSS de Chromium (Linux,
                                              ~/.pki/nssdb), pour l'authentification TLS
  paraphe-host native                         parler native messaging sur stdin/stdout
  paraphe-host version
Chaque commande accepte --module CHEMIN (répétable) pour ajouter un module PKCS#11.
Environnement : PARAPHE_PKCS11_MODULES (liste de chemins), PARAPHE_CONFIG (fichier de
configuration), PARAPHE_LOG (error|warn|info|debug), PARAPHE_LOG_FILE.
";

pub fn usage_error(message: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "paraphe-host: {message}\n");
    let _ = err.write_all(t(USAGE_FR, USAGE_EN).as_bytes());
}

pub fn run(cli: Cli) -> ExitCode {
    let out = &mut io::stdout().lock();
    let result = if let Action::Man = cli.action {
        // No module to load for this one.
        man_page(out).map_err(io_err)
    } else {
        let mut host = Host::start("cli", &cli.modules);
        let result = match cli.action {
            Action::Help => out.write_all(t(USAGE_FR, USAGE_EN).as_bytes()).map_err(io_err),
            Action::Version => writeln!(out, "paraphe-host {}", env!("CARGO_PKG_VERSION")).map_err(io_err),
            Action::List => list(&mut host, cli.json, out),
            Action::Diagnose => diagnose(&mut host, cli.json, out),
            Action::Tls { register } => tls(&mut host, register, cli.json, out),
            Action::Sign(o) => sign(&mut host, &o, cli.json, out),
            Action::Man => man_page(out).map_err(io_err),
        };
        host.end_all_sessions();
        result
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let wire = to_wire(&e);
            if cli.json {
                let _ = writeln!(out, "{}", serde_json::json!({ "error": wire }));
            }
            let _ = writeln!(io::stderr(), "paraphe-host: {} ({})", wire.message, wire.code.name());
            if let Error::RawSignatureRefused = e {
                let _ = writeln!(
                    io::stderr(),
                    "{}",
                    t(
                        "Si vous avez vous-même choisi cette empreinte, --allow-login-key la fait signer.",
                        "If you chose this digest yourself, --allow-login-key signs it."
                    )
                );
            }
            ExitCode::FAILURE
        }
    }
}

fn io_err(e: io::Error) -> Error {
    Error::Internal(e.to_string())
}

fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    writeln!(out, "{text}").map_err(io_err)
}

fn list(host: &mut Host, json: bool, out: &mut impl Write) -> Result<()> {
    let list: CertificateList = crate::commands::list_certificates::run(host, &NoArguments {})?;
    if json {
        return print_json(out, &list);
    }
    if list.tokens.is_empty() {
        writeln!(out, "{}", t("Aucun jeton trouvé.", "No token found.")).map_err(io_err)?;
    }
    for token in &list.tokens {
        writeln!(
            out,
            "{} « {} » ({} {}, {} {})",
            t("Jeton", "Token"),
            token.label,
            token.manufacturer,
            token.model,
            t("série", "serial"),
            token.serial
        )
        .map_err(io_err)?;
        for c in list.certificates.iter().filter(|c| c.token == token.id) {
            describe(out, c)?;
        }
    }
    Ok(())
}

fn describe(out: &mut impl Write, c: &CertificateEntry) -> Result<()> {
    let i = &c.info;
    let who = i.subject_common_name.clone().unwrap_or_else(|| i.subject.clone());
    let issuer = i.issuer_common_name.clone().unwrap_or_else(|| i.issuer.clone());
    let usages: Vec<&str> = i
        .usages
        .iter()
        .map(|u| match u {
            Usage::Signing => t("signature", "signing"),
            Usage::Authentication => t("authentification", "authentication"),
            Usage::Encryption => t("chiffrement", "encryption"),
        })
        .collect();
    let key = match c.private_key {
        KeyPresence::Present => t("présente", "present"),
        KeyPresence::HiddenUntilLogin => t("visible après saisie du PIN", "visible after login"),
        KeyPresence::Absent => t("absente", "absent"),
    };
    let mut extras = Vec::new();
    if let Some(level) = &i.rgs_level {
        extras.push(format!("RGS {level}"));
    }
    if i.qualified.qc_compliance {
        extras
            .push(t("qualifié eIDAS", "eIDAS qualified").to_owned() + if i.qualified.qc_sscd { " (QSCD)" } else { "" });
    }
    if c.always_authenticate == Some(true) {
        extras.push(t("PIN à chaque usage", "PIN for every use").to_owned());
    }
    let lines = [
        format!("  {} : {who} — {} {issuer}", t("Certificat", "Certificate"), t("émis par", "issued by")),
        format!("    {} : {}", t("Empreinte SHA-256", "SHA-256 fingerprint"), c.fingerprint),
        format!(
            "    {} : {}",
            t("Usage", "Usage"),
            [usages.join(", ")].into_iter().chain(extras).collect::<Vec<_>>().join(" ; ")
        ),
        format!(
            "    {} {} → {} ; {} {} {} ; CKA_ID {} ; {} : {key}",
            t("Validité", "Valid"),
            i.not_before,
            i.not_after,
            t("clé", "key"),
            i.key_type,
            i.curve.clone().unwrap_or_else(|| format!("{}", i.key_bits)),
            c.cka_id,
            t("clé privée", "private key"),
        ),
    ];
    for l in lines {
        writeln!(out, "{l}").map_err(io_err)?;
    }
    Ok(())
}

fn diagnose(host: &mut Host, json: bool, out: &mut impl Write) -> Result<()> {
    let loaded = config::load();
    let status: StatusResult = crate::commands::status::run(host, &NoArguments {})?;
    let certificates =
        if status.modules.iter().any(|m| m.loaded) { host.sessions().backend().certificates()? } else { Vec::new() };
    let known: Vec<serde_json::Value> = token::middleware::known_modules()
        .into_iter()
        .map(|(name, path)| serde_json::json!({"name": name, "installed": std::path::Path::new(&path).exists(), "path": path}))
        .collect();
    // The same readers view as the `status` command (PC/SC asked now: no monitor here).
    let readers: serde_json::Value = match &status.pcsc {
        Some(p) if p.available => serde_json::to_value(&p.readers).unwrap_or_default(),
        Some(p) => serde_json::json!({ "unavailable": p.message }),
        None => serde_json::json!({ "unavailable": null }),
    };
    if json {
        return print_json(
            out,
            &serde_json::json!({
                "host": host.hello(),
                "readers": readers,
                "config": loaded.files,
                "knownMiddleware": known,
                "modules": status.modules,
                "tokens": status.tokens,
                "certificates": certificates,
            }),
        );
    }
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(io_err);
    w(out, format!("paraphe-host {} ({})", env!("CARGO_PKG_VERSION"), std::env::consts::OS))?;
    let cfg: Vec<String> = loaded
        .files
        .iter()
        .map(|f| {
            let whose = match f.layer {
                config::Layer::System => t("administrateur", "administrator"),
                config::Layer::User => t("utilisateur", "user"),
            };
            match &f.error {
                None => format!("{} ({whose})", f.path.display()),
                Some(e) => format!("{} ({whose}) — {} : {e}", f.path.display(), t("ignoré", "ignored")),
            }
        })
        .collect();
    let cfg = if cfg.is_empty() { t("aucun", "none").to_owned() } else { cfg.join(" ; ") };
    w(out, format!("{} : {cfg}", t("Configuration", "Config files")))?;
    w(out, t("Middleware connus :", "Known middleware:").to_owned())?;
    for (name, path) in token::middleware::known_modules() {
        let installed = std::path::Path::new(&path).exists();
        w(out, format!("  [{}] {name} — {path}", if installed { "x" } else { " " }))?;
    }
    w(out, t("Lecteurs et cartes :", "Readers and cards:").to_owned())?;
    match &readers {
        serde_json::Value::Array(list) if list.is_empty() => w(out, t("  aucun lecteur", "  no reader").to_owned())?,
        serde_json::Value::Array(list) => {
            for r in list {
                w(out, reader_line(r))?;
            }
        }
        other => w(out, format!("  {}", other["unavailable"].as_str().unwrap_or_default()))?,
    }
    w(out, t("Modules PKCS#11 :", "PKCS#11 modules:").to_owned())?;
    if status.modules.is_empty() {
        w(
            out,
            t(
                "  aucun : installez le middleware de votre carte, ou indiquez --module",
                "  none: install your card's middleware, or pass --module",
            )
            .to_owned(),
        )?;
    }
    for m in &status.modules {
        let state = match (&m.error, &m.library) {
            (Some(e), _) => format!("{} ({e})", t("NON CHARGÉ", "NOT LOADED")),
            (None, Some(lib)) => format!("{} — {lib}", t("chargé", "loaded")),
            (None, None) => t("chargé", "loaded").to_owned(),
        };
        w(out, format!("  {} [{:?}] : {state}", m.path, m.source))?;
    }
    w(out, t("Jetons :", "Tokens:").to_owned())?;
    for tk in &status.tokens {
        let pin = if tk.pin.locked {
            t("PIN BLOQUÉ", "PIN LOCKED")
        } else if tk.pin.final_try {
            t("dernier essai du PIN", "PIN: final try")
        } else if tk.pin.count_low {
            t("PIN : peu d'essais restants", "PIN: few tries left")
        } else {
            t("PIN ok", "PIN ok")
        };
        let pad = if tk.protected_authentication_path { t(" ; clavier du lecteur", " ; PIN pad") } else { "" };
        w(out, format!("  « {} » ({} {}) {} ; {pin}{pad}", tk.label, tk.manufacturer, tk.model, tk.slot_description))?;
    }
    w(out, t("Certificats :", "Certificates:").to_owned())?;
    for c in &certificates {
        describe(out, c)?;
    }
    Ok(())
}

/// One reader in diagnostics: its card, and which middleware it needs and whether it is here.
/// `tls-status` / `tls-register`: one line per module.
fn tls(host: &mut Host, register: bool, json: bool, out: &mut impl Write) -> Result<()> {
    let state = if register {
        crate::commands::tls_register::run(host, &NoArguments {})?
    } else {
        crate::commands::tls_status::run(host, &NoArguments {})?
    };
    if json {
        return print_json(out, &state);
    }
    let Some(db) = &state.database else {
        return writeln!(
            out,
            "{}",
            t("Chromium n'utilise pas de base NSS sur ce système.", "Chromium uses no NSS database on this system.")
        )
        .map_err(io_err);
    };
    writeln!(out, "{} {db}", t("Base NSS :", "NSS database:")).map_err(io_err)?;
    if state.modules.is_empty() {
        writeln!(out, "  {}", t("aucun module chargé", "no module loaded")).map_err(io_err)?;
    }
    for m in &state.modules {
        let verdict = match (m.added, m.registered) {
            (true, _) => t("ajouté (redémarrez Chromium)", "added (restart Chromium)"),
            (false, true) => t("enregistré", "registered"),
            (false, false) => t("absent", "missing"),
        };
        writeln!(out, "  {} [{}]: {verdict}", m.path, m.nss_name).map_err(io_err)?;
    }
    if !state.modutil && state.modules.iter().any(|m| !m.registered) {
        writeln!(
            out,
            "{}",
            t(
                "modutil manque : installez libnss3-tools (nss-tools).",
                "modutil is missing: install libnss3-tools (nss-tools)."
            )
        )
        .map_err(io_err)?;
    }
    Ok(())
}

fn reader_line(r: &serde_json::Value) -> String {
    let reader = r["reader"].as_str().unwrap_or_default();
    let Some(atr) = r["atr"].as_str() else {
        return format!("  {reader} : {}", t("pas de carte", "no card"));
    };
    let m = &r["middleware"];
    let name = m["name"].as_str().unwrap_or("?");
    let card = r["card"].as_str().map(|c| format!(" ({c})")).unwrap_or_default();
    let verdict = match (m["installed"].as_bool(), m["fallback"].as_bool()) {
        (Some(true), Some(false)) => format!("{} {name}", t("middleware installé :", "middleware installed:")),
        (Some(true), _) => format!("{} {name}", t("carte inconnue, essai avec", "unknown card, trying")),
        (_, Some(false)) => format!(
            "{} {name} — {}",
            t("MIDDLEWARE MANQUANT :", "MISSING MIDDLEWARE:"),
            m["install"].as_str().unwrap_or_default()
        ),
        _ => format!(
            "{} {}",
            t(
                "carte inconnue ; installez le middleware fourni avec la carte, ou",
                "unknown card; install the middleware that came with it, or"
            ),
            name
        ),
    };
    format!("  {reader} : ATR {atr}{card} — {verdict}")
}

fn read_pin_line() -> Result<Pin> {
    let mut line = Zeroizing::new(String::new());
    io::stdin().lock().read_line(&mut line).map_err(io_err)?;
    let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
    Pin::new(trimmed).map_err(|e| Error::InvalidArgument(e.into()))
}

fn sign(host: &mut Host, o: &SignOptions, json: bool, out: &mut impl Write) -> Result<()> {
    let digest = hex::decode(o.digest_hex.trim()).map_err(|e| Error::InvalidArgument(format!("--digest: {e}")))?;
    let fingerprint = o.cert.to_ascii_lowercase().replace(':', "");
    // The key type decides the scheme; read it from the certificate.
    let list = crate::commands::list_certificates::run(host, &NoArguments {})?;
    let entry = list
        .certificates
        .iter()
        .find(|c| c.fingerprint == fingerprint)
        .ok_or_else(|| Error::CertificateNotFound(fingerprint.clone()))?;
    let scheme = match (entry.info.key_type.as_str(), o.pss) {
        ("EC", _) => SignatureScheme::Ecdsa,
        (_, true) => SignatureScheme::RsaPss,
        (_, false) => SignatureScheme::RsaPkcs1,
    };
    let pin = if o.pin_stdin { Some(read_pin_line()?) } else { None };
    // The person at the terminal chose this digest, but it could be `H(H(origin) ‖ H(nonce))`
    // of a site's login challenge pasted from elsewhere: a login-capable key signs it only
    // when they say so.
    let login_keys = if o.allow_login_key { LoginKeys::Allow } else { LoginKeys::Refuse };
    let login: LoginResult = crate::commands::login::open(
        host,
        LoginArgs {
            certificate: fingerprint.clone(),
            pin,
            ttl_seconds: None,
            purpose: LoginPurpose::SignRaw,
            hint: None,
        },
        login_keys,
    )?;
    let args = SignArgs {
        session: login.session.clone(),
        digest: crate::commands::encode_b64(&digest),
        hash: o.hash,
        scheme,
        ecdsa_encoding: (scheme == SignatureScheme::Ecdsa).then_some(if o.ecdsa_der {
            EcdsaEncoding::Der
        } else {
            EcdsaEncoding::Raw
        }),
    };
    let signed: Result<SignResult> = crate::commands::sign::run(host, &args);
    crate::commands::logout::run(host, &LogoutArgs { session: login.session })?;
    let signed = signed?;
    if let Some(path) = &o.out {
        let raw = crate::commands::decode_b64("signature", &signed.signature, 1 << 16)?;
        std::fs::write(path, raw).map_err(io_err)?;
    }
    if json {
        print_json(
            out,
            &serde_json::json!({
                "signature": signed.signature,
                "scheme": scheme.name(),
                "hash": o.hash.name(),
                "certificate": fingerprint,
            }),
        )
    } else {
        writeln!(out, "{}", signed.signature).map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(args: &[&str]) -> Option<&'static str> {
        browser_caller(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    fn parsed(args: &[&str]) -> std::result::Result<Invocation, String> {
        parse(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn command_lines_parse_or_say_what_is_wrong() {
        let action = |args: &[&str]| match parsed(args) {
            Ok(Invocation::Cli(cli)) => {
                let what = match cli.action {
                    Action::List => "list".to_owned(),
                    Action::Diagnose => "diagnose".to_owned(),
                    Action::Tls { register } => format!("tls {register}"),
                    Action::Sign(o) => format!("sign {} {} {} {}", o.cert, o.hash.name(), o.digest_hex, o.pss),
                    Action::Version => "version".to_owned(),
                    Action::Help => "help".to_owned(),
                    Action::Man => "man".to_owned(),
                };
                format!("{what} json={} modules={}", cli.json, cli.modules.len())
            }
            Ok(Invocation::Native { caller, modules }) => format!("native {caller} modules={}", modules.len()),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(action(&[]), "help json=false modules=0");
        assert_eq!(action(&["list", "--json"]), "list json=true modules=0");
        assert_eq!(action(&["--json", "--module", "/a.so", "list", "--module", "/b.so"]), "list json=true modules=2");
        assert_eq!(action(&["diagnose", "-h"]), "help json=false modules=0");
        assert_eq!(action(&["--version"]), "version json=false modules=0");
        assert_eq!(action(&["version"]), "version json=false modules=0");
        assert_eq!(action(&["tls-register"]), "tls true json=false modules=0");
        assert_eq!(action(&["man"]), "man json=false modules=0");
        assert_eq!(action(&["native", "--module", "/a.so"]), "native cli modules=1");
        assert_eq!(
            action(&["sign", "--cert", "ab", "--digest", "00", "--hash-alg", "sha384", "--pss"]),
            "sign ab sha384 00 true json=false modules=0"
        );
        assert_eq!(action(&["frobnicate"]), "error: unknown command frobnicate");
        assert_eq!(action(&["list", "--frob"]), "error: unknown option --frob");
        assert_eq!(action(&["list", "extra"]), "error: unexpected argument extra");
        assert_eq!(action(&["list", "--module"]), "error: --module needs a value");
        assert_eq!(action(&["sign", "--digest", "00"]), "error: sign needs --cert <fingerprint>");
        assert_eq!(action(&["sign", "--cert", "ab"]), "error: sign needs --digest <hex>");
        assert_eq!(
            action(&["sign", "--cert", "ab", "--digest", "00", "--hash-alg", "md5"]),
            "error: unknown hash algorithm md5"
        );
    }

    #[test]
    fn usage_texts_name_what_the_grammar_parses() {
        // The man page comes from the grammar, `help` prints these: they name the same things.
        let cmd = grammar();
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let mut names = vec![sub.get_name().to_owned()];
            names.extend(sub.get_arguments().filter_map(|a| a.get_long()).map(|l| format!("--{l}")));
            for name in names.iter().filter(|n| *n != "--help") {
                for (lang, usage) in [("USAGE_EN", USAGE_EN), ("USAGE_FR", USAGE_FR)] {
                    assert!(usage.contains(name.as_str()), "{lang} does not name {name} ({})", sub.get_name());
                }
            }
        }
    }

    #[test]
    fn browsers_are_told_from_people() {
        let origin = "chrome-extension://debnnagefdjgplndcngcmjleglejidaj/";
        assert_eq!(caller(&[origin]), Some("chromium"));
        // Chrome and Edge on Windows.
        assert_eq!(caller(&[origin, "--parent-window=0"]), Some("chromium"));
        assert_eq!(caller(&[origin, "--parent-window=1379"]), Some("chromium"));
        // Firefox on Linux and on Windows.
        assert_eq!(
            caller(&["/usr/lib/mozilla/native-messaging-hosts/fr.paraphe.host.json", "paraphe@paraphe.fr"]),
            Some("firefox")
        );
        assert_eq!(
            caller(&[r"C:\Program Files\Paraphe\fr.paraphe.host.firefox.JSON", "paraphe@paraphe.fr"]),
            Some("firefox")
        );
        assert_eq!(caller(&["x.json", "{ec8030f7-c20a-464f-9b0e-13a3a9e97384}"]), Some("firefox"));
        // A person's command line.
        assert_eq!(caller(&["list", "--json"]), None);
        assert_eq!(caller(&["config.json", "list"]), None);
    }
}
